#!/usr/bin/env bash
# Podman behind the Docker API, for the compose stack and testcontainers (no Docker engine needed):
#   tools/containers/engine.sh start   # podman system service on $ZDM_PODMAN_SOCKET + healthcheck runner
#   tools/containers/engine.sh stop    # stops both (containers are left to `docker compose down`)
#   eval "$(tools/containers/engine.sh env)"   # DOCKER_HOST, CONTAINERS_CONF
# Podman schedules HEALTHCHECKs with systemd timers; without systemd a loop here runs
# `podman healthcheck run` for every running container that has one, every 2 seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. tools/containers/env.sh
dir=$(dirname "$ZDM_PODMAN_SOCKET")
mkdir -p "$dir"

alive() { [ -s "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

case "${1:-}" in
start)
  command -v podman >/dev/null || { echo "podman not found: run bash tools/setup.sh" >&2; exit 1; }
  if ! alive service; then
    rm -f "$ZDM_PODMAN_SOCKET"
    setsid podman system service --time=0 "unix://$ZDM_PODMAN_SOCKET" >"$dir/service.log" 2>&1 &
    echo $! >"$dir/service.pid"
  fi
  for _ in $(seq 100); do [ -S "$ZDM_PODMAN_SOCKET" ] && break; sleep 0.1; done
  [ -S "$ZDM_PODMAN_SOCKET" ] || { echo "podman system service did not open $ZDM_PODMAN_SOCKET: $(tail -n 3 "$dir/service.log")" >&2; exit 1; }
  if ! alive healthchecks; then
    setsid bash -c '
      while :; do
        for id in $(podman ps -q --filter health=starting --filter health=healthy --filter health=unhealthy 2>/dev/null); do
          podman healthcheck run "$id" >/dev/null 2>&1 &
        done
        wait
        sleep 2
      done' >"$dir/healthchecks.log" 2>&1 &
    echo $! >"$dir/healthchecks.pid"
  fi
  echo "podman: Docker API at unix://$ZDM_PODMAN_SOCKET (pids $(cat "$dir/service.pid") $(cat "$dir/healthchecks.pid"))"
  ;;
stop)
  for p in healthchecks service; do
    if alive "$p"; then kill -- "-$(cat "$dir/$p.pid")" 2>/dev/null || kill "$(cat "$dir/$p.pid")"; fi
    rm -f "$dir/$p.pid"
  done
  rm -f "$ZDM_PODMAN_SOCKET"
  ;;
env)
  echo "export DOCKER_HOST=unix://$ZDM_PODMAN_SOCKET CONTAINERS_CONF=$CONTAINERS_CONF"
  ;;
*)
  echo "usage: tools/containers/engine.sh start|stop|env" >&2
  exit 2
  ;;
esac
