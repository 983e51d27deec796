# Stand-in for node:24.21.0-bookworm-slim. Context: a folder holding node/ (a Node distribution:
# bin/node and lib/node_modules/npm), prepared by tools/containers/images.mjs.
FROM localhost/debian:bookworm
COPY node /usr/local/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
