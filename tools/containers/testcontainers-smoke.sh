#!/usr/bin/env bash
# The testcontainers path of @zdm/dev-services on podman: MongoDB and Redis started as containers
# (the stand-in images of tools/containers/images.mjs --standins; ZDM_MONGO_IMAGE / ZDM_REDIS_IMAGE
# name them, the defaults are the official images), then the dev-services smoke suites against them.
# Ryuk (testcontainers' reaper) cannot be pulled here: it is disabled, and the suites' own teardown
# stops every container they started. Extra arguments go to `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. tools/containers/env.sh
started=""
if [ -z "${DOCKER_HOST:-}" ]; then
  bash tools/containers/engine.sh start
  started=1
  eval "$(bash tools/containers/engine.sh env)"
fi
trap '[ -z "$started" ] || bash tools/containers/engine.sh stop' EXIT
for image in "${ZDM_MONGO_IMAGE:=localhost/zdm-standin/mongo:8.0}" "${ZDM_REDIS_IMAGE:=localhost/zdm-standin/redis:7.4}"; do
  docker image inspect "$image" >/dev/null 2>&1 || node tools/containers/images.mjs --engine podman --standins --only zdm-standin \
    --cafile /etc/ssl/certs/ca-certificates.crt
done
export ZDM_MONGO_IMAGE ZDM_REDIS_IMAGE TESTCONTAINERS_RYUK_DISABLED=true ZDM_SERVICE_SOURCES=testcontainers,local
npm test -- --projects=shared-dev-services --testPathPatterns='smoke/(mongo|redis)' "$@"
before=$(docker ps -aq --filter label=org.testcontainers=true | wc -l)
[ "$before" -eq 0 ] || { echo "testcontainers left $before container(s) behind" >&2; exit 1; }
