# syntax=docker/dockerfile:1
# Every service of the sample (apps/<service>/Dockerfile links here): only the service's name
# differs, so they share this one file. From the repository root:
#   docker build -f apps/customers/Dockerfile --build-arg SERVICE=customers -t zdm/customers:v2 .
#   docker build -f apps/orders/Dockerfile --build-arg SERVICE=orders -t zdm/orders:v2 .
# The previous release (blue) is built from git history: npm run images (tools/containers/images.mjs).
# Behind a proxy with its own CA, mount it and name it: --build-arg NPM_CAFILE=/run/host-ca.crt.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# Production dependencies, exactly as package-lock.json records them; no install scripts run.
FROM ${NODE_IMAGE} AS deps
WORKDIR /build
ARG NPM_CAFILE=
COPY package.json package-lock.json ./
RUN npm_config_cafile="${NPM_CAFILE}" npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# The service and the workspace libraries it imports, compiled to CommonJS with the locked swc.
FROM ${NODE_IMAGE} AS compile
WORKDIR /build
ARG NPM_CAFILE=
COPY package-lock.json tsconfig.base.json ./
RUN cd /tmp && npm_config_cafile="${NPM_CAFILE}" npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      "@swc/core@$(node -p "require('/build/package-lock.json').packages['node_modules/@swc/core'].version")"
COPY tools/containers/compile.mjs tools/containers/
COPY apps apps
COPY libs libs
ARG SERVICE=
RUN case "$SERVICE" in ''|*[!a-z-]*) echo "build with --build-arg SERVICE=<a folder of apps/, e.g. customers>, not '$SERVICE'" >&2; exit 2 ;; esac
RUN SWC_CORE=/tmp/node_modules/@swc/core node tools/containers/compile.mjs /out "apps/$SERVICE/src/main.ts" \
 && echo "require('./apps/$SERVICE/src/main.js');" > /out/main.js

# What runs: Node, the production dependencies and the compiled code. Node is PID 1 (no npm, no
# shell), so SIGTERM reaches the service and it drains: readiness 503, SHUTDOWN_DRAIN_MS, exit 0.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps /build/node_modules node_modules
COPY --from=compile /out ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=5s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "main.js"]
