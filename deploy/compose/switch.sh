#!/bin/sh
# Blue-green switch of the compose stack:  ./switch.sh green [SERVICE...]   (or ./switch.sh blue to go back)
# For each service (every service of the stack when none is named):
#   1. waits until every container of the new color is healthy (GET /health/ready answers 200);
#   2. points the service's nginx upstream at the new color, checks the config (nginx -t) and
#      reloads it gracefully (new workers take new connections, old ones finish what they have);
#   3. stops the old color: SIGTERM, each instance turns its readiness to 503, serves for
#      SHUTDOWN_DRAIN_MS while in-flight requests finish, and exits.
# Uses the compose files in COMPOSE_FILE, else compose.yml and compose.green.yml next to this script.
set -eu
to=${1:?usage: switch.sh green|blue [SERVICE...]}
case $to in green) from=blue ;; blue) from=green ;; *) echo "switch.sh: expected green or blue, got $to" >&2; exit 2 ;; esac
shift
here=$(cd "$(dirname "$0")" && pwd)
# Every service with upstreams for both colors under nginx/upstreams.
services=${*:-$(ls "$here/nginx/upstreams" | sed -n 's/-blue\.conf$//p')}
export COMPOSE_FILE="${COMPOSE_FILE:-$here/compose.yml:$here/compose.green.yml}"
compose() { docker compose --project-directory "$here" "$@"; }

for service in $services; do
  [ -f "$here/nginx/upstreams/$service-$to.conf" ] || { echo "switch.sh: no upstream for $service-$to in nginx/upstreams" >&2; exit 2; }
  # --no-recreate: what runs stays as it is (podman's Docker API makes compose see every running
  # container as changed, and it would recreate the dependencies).
  compose up -d --wait --no-recreate "$service-$to"
  compose exec -T nginx sh -ec "
    cd /etc/nginx/upstreams
    cp active-$service.conf active-$service.conf.previous
    cp /etc/nginx/upstreams-available/$service-$to.conf active-$service.conf
    nginx -t -q || { mv active-$service.conf.previous active-$service.conf; echo 'switch: nginx -t refused the new upstream; nothing changed' >&2; exit 1; }
    rm active-$service.conf.previous
    nginx -s reload"
  echo "switch: nginx sends new $service requests to $service-$to"
  compose stop "$service-$from"
  echo "switch: $service-$from drained and stopped"
done
