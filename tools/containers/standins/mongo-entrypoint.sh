#!/bin/sh
# mongod's arguments (--replSet, --bind_ip_all) mean nothing to FerretDB: it listens on every
# address and is not a replica set (clients connect with directConnection=true).
exec ferretdb --handler=sqlite --sqlite-url=file:/data/db/ --listen-addr=:27017 \
  --debug-addr=127.0.0.1:8088 --telemetry=disable --log-level=warn
