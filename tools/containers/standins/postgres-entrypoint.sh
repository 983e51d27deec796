#!/bin/sh
# As the official image: on an empty data folder, initdb with POSTGRES_USER / POSTGRES_PASSWORD
# (password auth from other hosts) and create POSTGRES_DB; then run postgres as user postgres.
set -eu
chmod 0755 /usr/local/bin/docker-entrypoint.sh 2>/dev/null || true
[ "$1" = postgres ] || exec "$@"
shift
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
chown postgres:postgres "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >"$pwfile"
  chown postgres "$pwfile"
  as_pg initdb --username="${POSTGRES_USER:-postgres}" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_pg pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
  [ "$db" = postgres ] || as_pg psql -q -U "${POSTGRES_USER:-postgres}" -d postgres -c "CREATE DATABASE \"$db\""
  as_pg pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -c listen_addresses='*' "$@"
