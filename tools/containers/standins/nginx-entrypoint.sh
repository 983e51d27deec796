#!/bin/sh
# As the official nginx image: render /etc/nginx/templates/*.template into /etc/nginx/conf.d with
# envsubst (only the variables that are set, filtered by NGINX_ENVSUBST_FILTER), run the scripts in
# /docker-entrypoint.d in order, then start nginx.
set -eu
if [ "${1:-}" = nginx ]; then
  vars=$(env | cut -d= -f1 | grep -E "${NGINX_ENVSUBST_FILTER:-.}" | sed 's/^/$/' | tr '\n' ' ')
  for t in /etc/nginx/templates/*.template; do
    [ -e "$t" ] || continue
    out=/etc/nginx/conf.d/$(basename "$t" .template)
    envsubst "$vars" <"$t" >"$out"
  done
  for s in /docker-entrypoint.d/*.sh; do
    [ -e "$s" ] || continue
    sh "$s"
  done
fi
exec "$@"
