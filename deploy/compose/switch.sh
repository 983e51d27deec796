#!/bin/sh
# Blue-green switch of the compose stack:  ./switch.sh green   (or ./switch.sh blue to go back)
#   1. waits until every container of the new color is healthy (GET /health/ready answers 200);
#   2. points nginx's upstream at the new color, checks the config (nginx -t) and reloads it
#      gracefully (new workers take new connections, old ones finish what they have);
#   3. stops the old color: SIGTERM, each instance turns its readiness to 503, serves for
#      SHUTDOWN_DRAIN_MS while in-flight requests finish, and exits.
# Uses the compose files in COMPOSE_FILE, else compose.yml and compose.green.yml next to this script.
set -eu
to=${1:?usage: switch.sh green|blue}
case $to in green) from=blue ;; blue) from=green ;; *) echo "switch.sh: expected green or blue, got $to" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
export COMPOSE_FILE="${COMPOSE_FILE:-$here/compose.yml:$here/compose.green.yml}"
compose() { docker compose --project-directory "$here" "$@"; }

# --no-recreate: what runs stays as it is (podman's Docker API makes compose see every running
# container as changed, and it would recreate the dependencies).
compose up -d --wait --no-recreate "customers-$to"
compose exec -T nginx sh -ec "
  cd /etc/nginx/upstreams
  cp active.conf active.conf.previous
  cp /etc/nginx/upstreams-available/$to.conf active.conf
  nginx -t -q || { mv active.conf.previous active.conf; echo 'switch: nginx -t refused the new upstream; nothing changed' >&2; exit 1; }
  nginx -s reload"
echo "switch: nginx sends new requests to customers-$to"
compose stop "customers-$from"
echo "switch: customers-$from drained and stopped"
