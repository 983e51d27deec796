#!/bin/sh
# As the official image: redis-server without a config file, protected mode off, as user redis.
if [ "$1" = redis-server ]; then
  shift
  exec setpriv --reuid=redis --regid=redis --init-groups redis-server --protected-mode no --dir /data "$@"
fi
exec "$@"
