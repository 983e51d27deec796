#!/usr/bin/env bash
# `docker compose config -q` for every combination of deploy/compose's files and profiles, with the
# variables of .env.example. Needs only the compose plugin, no engine. Exit 1 on the first failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/compose"
. ../../tools/containers/env.sh
docker compose version >/dev/null 2>&1 || { echo "docker compose not found: run bash tools/setup.sh" >&2; exit 1; }
n=0
for files in "compose.yml" "compose.yml compose.green.yml" "compose.yml compose.standins.yml" "compose.yml compose.green.yml compose.standins.yml"; do
  for profile in "" tools; do
    args=(--env-file .env.example)
    for f in $files; do args+=(-f "$f"); done
    [ -z "$profile" ] || args+=(--profile "$profile")
    if ! out=$(docker compose "${args[@]}" config -q 2>&1); then
      printf 'compose config FAILED: %s %s\n%s\n' "$files" "${profile:+--profile $profile}" "$out" >&2
      exit 1
    fi
    n=$((n + 1))
  done
done
# Without .env every required secret is named.
if out=$(env -u POSTGRES_PASSWORD -u UNLEASH_ADMIN_PASSWORD -u UNLEASH_ADMIN_SECRET -u UNLEASH_CLIENT_SECRET -u COMPOSE_FILE \
  docker compose --env-file /dev/null -f compose.yml config -q 2>&1); then
  echo "compose config: compose.yml passed without the required secrets" >&2
  exit 1
fi
grep -q 'set .* in .env' <<<"$out" || { printf 'compose config without .env did not name the missing secret:\n%s\n' "$out" >&2; exit 1; }
echo "compose config: $n combinations valid; without .env it refuses: $(grep -m 1 "in .env" <<<"$out")"
