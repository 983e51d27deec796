#!/bin/sh
# Run by the nginx image's entrypoint before nginx starts: the first start serves ZDM_COLOR (blue);
# later starts keep whatever switch.sh made active (the file lives in a named volume).
set -eu
active=${ZDM_UPSTREAM_FILE:-/etc/nginx/upstreams/active.conf}
[ -s "$active" ] || cp "/etc/nginx/upstreams-available/${ZDM_COLOR:-blue}.conf" "$active"
echo "40-zdm-upstream: $(grep -o 'customers-[a-z]*' "$active" | head -n 1) is active"
