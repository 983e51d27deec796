#!/usr/bin/env bash
# npm run demo:compose [-- story options, see tools/demo/src/compose.ts --help]
# The demo story on the compose stack, start to end, with each step's time:
#   engine   a Docker engine if one answers, else podman behind the Docker API (tools/containers/engine.sh)
#   config   docker compose config -q for every combination of files (tools/containers/config-check.sh)
#   images   tools/containers/images.mjs; on podman with --standins: no registry is needed
#   up       docker compose up -d --wait (blue behind nginx), with random secrets for this run
#   story    tools/demo/src/compose.ts: load, green, switch.sh, docker compose run --rm zdm, faults, report
#   down     docker compose down -v (always)
# Environment: DEMO_PORT (load balancer on 127.0.0.1, default 18083), STORY_MONGO_PORT (18084),
# ZDM_COMPOSE_STANDINS=1|0 (default: 1 on podman, 0 on Docker), ZDM_COMPOSE_PROJECT (zdm-story).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
. tools/containers/env.sh

t0=$SECONDS
timings=()
step() {
  local name=$1
  shift
  local s=$SECONDS
  printf '\n=== compose story: %s ===\n' "$name"
  "$@"
  timings+=("$(printf '%-8s %4ss' "$name" $((SECONDS - s)))")
}
report_times() {
  printf '\n=== compose story: step times ===\n'
  printf '  %s\n' "${timings[@]}"
  printf '  total    %4ss\n' $((SECONDS - t0))
}

started_engine=""
engine() {
  if [ -z "${DOCKER_HOST:-}" ] && docker info >/dev/null 2>&1; then
    engine_kind=docker
  else
    bash tools/containers/engine.sh start
    started_engine=1
    eval "$(bash tools/containers/engine.sh env)"
    engine_kind=podman
  fi
  echo "engine: $engine_kind ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
}
step engine engine

standins=${ZDM_COMPOSE_STANDINS:-$([ "$engine_kind" = podman ] && echo 1 || echo 0)}
files=(deploy/compose/compose.yml deploy/compose/compose.green.yml)
[ "$standins" = 1 ] && files+=(deploy/compose/compose.standins.yml)
files+=(tools/containers/compose.story.yml)
export COMPOSE_FILE COMPOSE_PROJECT_NAME=${ZDM_COMPOSE_PROJECT:-zdm-story}
COMPOSE_FILE=$(IFS=:; echo "${files[*]/#/$root/}")
# Secrets for this run only; everything else as .env.example says.
set -a
. deploy/compose/.env.example
POSTGRES_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
UNLEASH_ADMIN_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
UNLEASH_ADMIN_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
UNLEASH_CLIENT_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
LB_PUBLISH=127.0.0.1:${DEMO_PORT:-18083}
STORY_MONGO_PORT=${STORY_MONGO_PORT:-18084}
UNLEASH_REFRESH_MS=1000
HEARTBEAT_INTERVAL_MS=1000
SHUTDOWN_DRAIN_MS=3000
# The stand-in mongo is FerretDB, where the library takes per-document write claims (its updates
# are not atomic). A backfill runner killed mid-batch (the runner-killed fault) leaves its batch's
# claims until the next runner holds the job's lease, up to the lease TTL (10 s here), and a write to
# one of those documents waits for them: the request deadline must be longer than the lease TTL, or
# that write answers 503 (seen in CI: a PATCH waited 5 s and got 503). MongoDB takes no claims.
if [ "$standins" = 1 ]; then REQUEST_TIMEOUT_MS=${REQUEST_TIMEOUT_MS:-15000}; fi
# The shortest access-token lifetime the auth hub allows, so that the load refreshes during the story.
ACCESS_TOKEN_TTL_SECONDS=30
# The auth hub's signing key for this run only, outside the checkout (removed with the run's temp dir).
story_secrets=$(mktemp -d)
AUTH_HUB_SIGNING_KEY_FILE=$story_secrets/auth-hub-signing-key.pem
set +a
sh deploy/compose/signing-key.sh "$AUTH_HUB_SIGNING_KEY_FILE"
compose() { docker compose --project-directory "$root/deploy/compose" "$@"; }

finish() {
  local code=$?
  trap - EXIT
  if [ -n "${stack_up:-}" ]; then
    [ $code -eq 0 ] || compose logs --no-color --timestamps >"${TMPDIR:-/tmp}/zdm-compose-story.log" 2>&1 || true
    [ $code -eq 0 ] || echo "last container logs: ${TMPDIR:-/tmp}/zdm-compose-story.log"
    step down compose --profile tools down -v --remove-orphans --timeout 10
  fi
  [ -z "$started_engine" ] || bash tools/containers/engine.sh stop
  rm -rf "$story_secrets"
  report_times
  exit $code
}
trap finish EXIT

step config bash tools/containers/config-check.sh
image_args=(--engine "$engine_kind")
if [ "$standins" = 1 ]; then
  image_args+=(--standins)
  [ "$engine_kind" != podman ] || [ ! -r /etc/ssl/certs/ca-certificates.crt ] || image_args+=(--cafile /etc/ssl/certs/ca-certificates.crt)
fi
step images node tools/containers/images.mjs "${image_args[@]}"
stack_up=1
# Blue behind nginx (nginx depends on blue, mongo and unleash), and redis; green comes later.
step up compose up -d --wait --no-build --pull never --wait-timeout 300 nginx redis
step story node tools/scripts/run-ts.mjs tools/demo/src/compose.ts --project "$COMPOSE_PROJECT_NAME" \
  --files "$(IFS=,; echo "${files[*]}")" --lb-url "http://$LB_PUBLISH" \
  --mongo-url "mongodb://127.0.0.1:$STORY_MONGO_PORT/?directConnection=true" --instances "$INSTANCES" "$@"
