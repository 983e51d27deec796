#!/bin/bash
# Not mongosh: the stack's healthcheck runs `mongosh --eval ...`; here it asks FerretDB's readiness
# endpoint instead (200 once it answers on 27017). Exit 0 when ready.
exec 3<>/dev/tcp/127.0.0.1/8088 || exit 1
printf 'GET /debug/readyz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r _ status _ <&3
[ "$status" = 200 ]
