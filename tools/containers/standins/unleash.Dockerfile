# Stand-in for unleashorg/unleash-server:8.2: unleash-server at the version package-lock.json
# records, started from the environment (DATABASE_URL, INIT_*_API_TOKENS, ...) as the official image does.
ARG NODE_IMAGE=localhost/zdm-standin/node:24
FROM ${NODE_IMAGE}
ARG NPM_CAFILE=
ARG UNLEASH_VERSION
WORKDIR /unleash
RUN npm_config_cafile="${NPM_CAFILE}" npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund "unleash-server@${UNLEASH_VERSION}" \
 && npm cache clean --force \
 && echo "require('unleash-server').start();" >index.js
USER node
EXPOSE 4242
CMD ["node", "index.js"]
