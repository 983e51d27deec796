#!/bin/sh
# Run by the nginx image's entrypoint before nginx starts. Each service has one upstream file per
# color in /etc/nginx/upstreams-available (<service>-blue.conf, <service>-green.conf); the active one
# is /etc/nginx/upstreams/active-<service>.conf, which services.conf.template includes. The first
# start serves ZDM_COLOR (blue); later starts keep whatever switch.sh made active (the files live
# in a named volume).
set -eu
dir=$(dirname "${ZDM_UPSTREAM_FILE:-/etc/nginx/upstreams/active-*.conf}")
for available in /etc/nginx/upstreams-available/*-"${ZDM_COLOR:-blue}".conf; do
  service=$(basename "$available" "-${ZDM_COLOR:-blue}.conf")
  active="$dir/active-$service.conf"
  [ -s "$active" ] || cp "$available" "$active"
  echo "40-zdm-upstream: $(grep -o "$service-[a-z]*" "$active" | head -n 1) is active"
done
