#!/usr/bin/env bash
# Installs what the compose stack needs to run here without a Docker engine (called by tools/setup.sh;
# ZDM_SETUP_SKIP_CONTAINERS=1 skips it):
#   - podman, runc, debootstrap and friends (apt; the CNI dnsname plugin lets services find each other
#     by name), podman serving the Docker API (tools/containers/engine.sh)
#   - the docker compose CLI plugin v5.6.0, built from its Go module source into ~/.docker/cli-plugins
#   - containers.conf with the workarounds for a machine without systemd or a pure cgroup v2
#     (${XDG_CONFIG_HOME:-~/.config}/zdm/containers.conf; the scripts point CONTAINERS_CONF at it)
#   - localhost/debian:bookworm, a debootstrapped base image that the stand-in images are built FROM
#     (no image registry needs to be reachable)
# Idempotent: when everything is present it only checks.
set -euo pipefail

COMPOSE_VERSION=v5.6.0
COMPOSE_MODULE=github.com/docker/compose/v5
BASE_IMAGE=localhost/debian:bookworm
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tools/containers/env.sh
. tools/containers/env.sh

say() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)

# --- apt ------------------------------------------------------------------------
missing=()
for pkg in podman runc debootstrap slirp4netns uidmap containernetworking-plugins golang-github-containernetworking-plugin-dnsname; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and this is not a Debian/Ubuntu system"
  say "installing ${missing[*]} (apt)"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- containers.conf --------------------------------------------------------------
mkdir -p "$(dirname "$CONTAINERS_CONF")"
conf=$(cat <<'CONF'
# Written by tools/containers/setup.sh. No systemd and a hybrid cgroup tree here: runc with cgroupfs,
# events to a file, and open-file limits a container may set without extra privileges.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
)
[ "$(cat "$CONTAINERS_CONF" 2>/dev/null)" = "$conf" ] || printf '%s\n' "$conf" >"$CONTAINERS_CONF"
say "containers.conf: $CONTAINERS_CONF"
say "podman: $(podman --version | sed 's/^podman version //'), runc: $(runc --version | head -n 1 | sed 's/^runc version //')"

# --- docker compose plugin ------------------------------------------------------------
plugin="$HOME/.docker/cli-plugins/docker-compose"
if [ -x "$plugin" ] && "$plugin" version 2>/dev/null | grep -q "${COMPOSE_VERSION#v}"; then
  say "docker compose ${COMPOSE_VERSION}: $plugin"
else
  GO=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
  [ -x "$GO" ] || die "Go is needed to build the docker compose plugin ${COMPOSE_VERSION}"
  say "docker compose ${COMPOSE_VERSION}: building from the module source (about a minute)"
  json=$("$GO" mod download -json "${COMPOSE_MODULE}@${COMPOSE_VERSION}") || die "go mod download ${COMPOSE_MODULE}@${COMPOSE_VERSION} failed: $json"
  dir=$(printf '%s\n' "$json" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -d "$dir" ] || die "go mod download gave no source directory: $json"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -R "$dir/." "$work/src"
  chmod -R u+w "$work/src"
  mkdir -p "$(dirname "$plugin")"
  (cd "$work/src" && "$GO" build -trimpath -ldflags "-s -w -X ${COMPOSE_MODULE}/internal.Version=${COMPOSE_VERSION}" -o "$plugin" ./cmd) ||
    die "go build of docker compose failed (see above)"
  say "docker compose: $("$plugin" version)"
fi

# --- the local base image --------------------------------------------------------------
if podman image exists "$BASE_IMAGE" 2>/dev/null; then
  say "base image: $BASE_IMAGE"
else
  say "base image: debootstrap --variant=minbase bookworm (about 30 s)"
  root=$(mktemp -d)
  "${SUDO[@]}" debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root.log" 2>&1 ||
    die "debootstrap failed: $(tail -n 3 "$root.log")"
  "${SUDO[@]}" tar -C "$root" -c . | podman import - "$BASE_IMAGE" >/dev/null
  "${SUDO[@]}" rm -rf "$root" "$root.log"
  say "base image: $BASE_IMAGE"
fi
