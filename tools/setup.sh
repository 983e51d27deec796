#!/usr/bin/env bash
# Installs what the local fallback of @zdm/dev-services needs on Debian/Ubuntu:
#   - redis-server and nginx (apt; `apt-get update` only when something is missing)
#   - FerretDB v1.24.2 (MongoDB-compatible, SQLite handler), built with Go into $(go env GOPATH)/bin
#   - mongo-java-server 1.47.0 (MongoDB wire protocol, in memory, atomic updates; ZDM_MONGO_SERVER=atomic),
#     its jars fetched with Maven and tools/mongo-java-server/AtomicMongoServer.java compiled, into
#     ${XDG_CACHE_HOME:-~/.cache}/zdm/mongo-java-server-1.47.0 (apt default-jdk-headless + maven when missing)
#   - checks Node: `npm install` installs Node 24 (the `node` devDependency), which npm scripts use
#   - the Kubernetes tools deploy/k8s is checked with (tools/k8s/setup.sh; about 5 minutes of Go
#     builds the first time)
#   - schemathesis (PyPI) in a Python venv, for `npm run contract` (OpenAPI conformance)
#   - podman, the docker compose plugin and a local Debian base image, for the compose stack
#     (tools/containers/setup.sh; ZDM_SETUP_SKIP_CONTAINERS=1 skips it)
# Idempotent: when everything is present it only checks (a second or so).
# Environment: FERRETDB_BIN (use this binary), ZDM_SETUP_SKIP_FERRETDB=1 (skip FerretDB),
#              ZDM_SETUP_SKIP_ATOMIC=1 (skip mongo-java-server),
#              ZDM_SETUP_SKIP_SCHEMATHESIS=1 (skip schemathesis, installed in a venv under ${XDG_CACHE_HOME:-~/.cache}/zdm),
#              ZDM_SETUP_SKIP_K8S=1 (skip the Kubernetes tools).
set -euo pipefail

FERRETDB_VERSION=v1.24.2
FERRETDB_MODULE=github.com/FerretDB/FerretDB
MONGO_JAVA_SERVER_VERSION=1.47.0
started=$(date +%s%N)
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup] %s\n' "$*"; }
die() {
  printf '[setup] ERROR: %s\n' "$*" >&2
  exit 1
}

# --- privileges -------------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else SUDO=(missing-sudo); fi
fi

# --- apt packages -------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]; }
missing=()
have redis-server || missing+=(redis-server)
have nginx || missing+=(nginx)
if [ "${ZDM_SETUP_SKIP_ATOMIC:-}" != 1 ]; then
  have javac || missing+=(default-jdk-headless)
  have mvn || missing+=(maven)
fi
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and this is not a Debian/Ubuntu system: install them with your package manager"
  [ "${SUDO[0]:-}" = missing-sudo ] && die "missing ${missing[*]}: run as root or install sudo, or run: apt-get install ${missing[*]}"
  say "installing ${missing[*]} (apt)"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
say "redis-server: $( (redis-server --version 2>/dev/null || /usr/bin/redis-server --version) | sed -n 's/.*\(v=[^ ]*\).*/\1/p')"
say "nginx: $( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | sed 's/^nginx version: //')"

# --- Go -----------------------------------------------------------------------
GO=$(command -v go 2>/dev/null || true)
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
go_hint="Go >= 1.24 is needed to build FerretDB: install it from https://go.dev/dl/ (tarball into /usr/local/go, then add /usr/local/go/bin to PATH) or with \`apt-get install golang-go\` where that is >= 1.24; alternatively put a ferretdb ${FERRETDB_VERSION} binary on PATH or in FERRETDB_BIN, or use Docker (dev-services then uses testcontainers)"

# --- FerretDB -------------------------------------------------------------------
ferretdb_ok() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "version: ${FERRETDB_VERSION}$"; }

if [ "${ZDM_SETUP_SKIP_FERRETDB:-}" = 1 ]; then
  say "FerretDB: skipped (ZDM_SETUP_SKIP_FERRETDB=1)"
else
  candidates=("${FERRETDB_BIN:-}" "$(command -v ferretdb 2>/dev/null || true)" "$HOME/go/bin/ferretdb")
  if [ -n "$GO" ]; then
    gobin=$("$GO" env GOBIN)
    [ -n "$gobin" ] || gobin="$("$GO" env GOPATH)/bin"
    candidates+=("$gobin/ferretdb")
  fi
  found=""
  for c in "${candidates[@]}"; do
    if ferretdb_ok "$c"; then
      found=$c
      break
    fi
  done
  if [ -n "$found" ]; then
    say "FerretDB ${FERRETDB_VERSION}: $found"
  else
    [ -n "$GO" ] || die "FerretDB ${FERRETDB_VERSION} not found. $go_hint"
    say "FerretDB ${FERRETDB_VERSION}: not found, building into $gobin (takes about a minute; $("$GO" version))"
    mkdir -p "$gobin"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    if GOBIN="$gobin" "$GO" install "${FERRETDB_MODULE}/cmd/ferretdb@${FERRETDB_VERSION}" >"$work/install.log" 2>&1 && ferretdb_ok "$gobin/ferretdb"; then
      say "built with go install"
    else
      # `go install` can fail on the module proxy's deprecation lookup, and a binary built
      # from the module zip lacks build/version/version.txt (it panics). Build from source.
      say "go install did not give a working binary ($(tail -n 1 "$work/install.log" 2>/dev/null)); building from the module source"
      json=$("$GO" mod download -json "${FERRETDB_MODULE}@${FERRETDB_VERSION}") || die "go mod download ${FERRETDB_MODULE}@${FERRETDB_VERSION} failed: $json"
      dir=$(printf '%s\n' "$json" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
      [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download gave no source directory: $json"
      cp -R "$dir/." "$work/src"
      chmod -R u+w "$work/src"
      echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
      (cd "$work/src" && "$GO" build -o "$gobin/ferretdb" ./cmd/ferretdb) || die "go build of FerretDB failed (see above)"
      ferretdb_ok "$gobin/ferretdb" || die "the FerretDB binary built at $gobin/ferretdb does not run: $("$gobin/ferretdb" --version 2>&1 | head -n 3)"
    fi
    say "FerretDB ${FERRETDB_VERSION}: $gobin/ferretdb"
  fi
fi

# --- mongo-java-server (the atomic MongoDB wire server) ---------------------------
# Found by @zdm/dev-services at the same path (MONGO_JAVA_SERVER_BIN overrides it there).
if [ "${ZDM_SETUP_SKIP_ATOMIC:-}" = 1 ]; then
  say "mongo-java-server: skipped (ZDM_SETUP_SKIP_ATOMIC=1)"
else
  mjs_dir="${XDG_CACHE_HOME:-$HOME/.cache}/zdm/mongo-java-server-${MONGO_JAVA_SERVER_VERSION}"
  mjs_src=tools/mongo-java-server
  # Rebuilt when the launcher or its pom changes.
  mjs_stamp=$(cat "$mjs_src/pom.xml" "$mjs_src/AtomicMongoServer.java" | sha256sum | cut -c1-16)
  if [ -x "$mjs_dir/bin/mongo-java-server" ] && [ "$(cat "$mjs_dir/stamp" 2>/dev/null)" = "$mjs_stamp" ]; then
    say "mongo-java-server ${MONGO_JAVA_SERVER_VERSION}: $mjs_dir/bin/mongo-java-server"
  else
    say "mongo-java-server ${MONGO_JAVA_SERVER_VERSION}: building into $mjs_dir (Maven fetches its jars once)"
    rm -rf "$mjs_dir"
    mkdir -p "$mjs_dir/bin"
    mvn -B -f "$mjs_src/pom.xml" dependency:copy-dependencies -DoutputDirectory="$mjs_dir/lib" </dev/null >"$mjs_dir/mvn.log" 2>&1 ||
      die "mvn could not fetch mongo-java-server ${MONGO_JAVA_SERVER_VERSION}: $(grep -m 3 ERROR "$mjs_dir/mvn.log")"
    javac -d "$mjs_dir/classes" -cp "$mjs_dir/lib/*" "$mjs_src/AtomicMongoServer.java" || die "javac of $mjs_src/AtomicMongoServer.java failed (see above)"
    cat >"$mjs_dir/bin/mongo-java-server" <<SCRIPT
#!/bin/sh
# mongo-java-server ${MONGO_JAVA_SERVER_VERSION} (memory backend) on 127.0.0.1:PORT; written by tools/setup.sh.
dir=\$(dirname "\$0")/..
exec java -Xmx1g -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \\
  -Dzdm.mongoJavaServer.version=${MONGO_JAVA_SERVER_VERSION} -cp "\$dir/classes:\$dir/lib/*" AtomicMongoServer "\$@"
SCRIPT
    chmod +x "$mjs_dir/bin/mongo-java-server"
    "$mjs_dir/bin/mongo-java-server" --version | grep -qx "mongo-java-server ${MONGO_JAVA_SERVER_VERSION}" ||
      die "$mjs_dir/bin/mongo-java-server does not run: $("$mjs_dir/bin/mongo-java-server" --version 2>&1 | head -n 3)"
    echo "$mjs_stamp" >"$mjs_dir/stamp"
    say "mongo-java-server ${MONGO_JAVA_SERVER_VERSION}: $mjs_dir/bin/mongo-java-server"
  fi
fi

# --- Node -----------------------------------------------------------------------
command -v npm >/dev/null 2>&1 || die "npm not found: install Node.js with npm (any version >= 18; e.g. apt-get install nodejs npm); \`npm install\` then adds Node 24"
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x node_modules/.bin/node ] && [ "$(node_major node_modules/.bin/node)" -ge 22 ]; then
  say "Node: $(node_modules/.bin/node --version) (node_modules/.bin/node; npm scripts use it)"
elif command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge 22 ]; then
  say "Node: $(node --version) (system)"
else
  say "Node >= 22 not installed yet: \`npm install\` installs Node 24 (the \`node\` devDependency) and npm scripts use it; in a shell use node_modules/.bin/node or nvm (.nvmrc)"
fi

# --- schemathesis (OpenAPI conformance, `npm run contract`) ----------------------
SCHEMATHESIS_VERSION=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/zdm/schemathesis-${SCHEMATHESIS_VERSION}"
# CPython before 3.11.8 (and 3.12.0) can fail ast.parse deep in a stack with "SystemError: AST
# constructor recursion depth mismatch" (gh-106905), which crashed a schemathesis run here (3.11.7).
py_fixed='import sys; v = sys.version_info[:3]; sys.exit(0 if v >= (3, 12, 1) or (3, 11, 8) <= v < (3, 12) else 1)'
pick_python() {
  local c
  local candidates=("${ZDM_PYTHON:-}" python3.13 python3.12)
  if command -v pyenv >/dev/null 2>&1; then
    for c in "$(pyenv root)"/versions/3.1[2-9]*/bin/python3; do candidates+=("$c"); done
  fi
  candidates+=(python3)
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && "$c" -c "$py_fixed" 2>/dev/null && "$c" -c 'import venv, ensurepip' 2>/dev/null && { command -v "$c"; return; }
  done
  command -v python3 2>/dev/null || true
}
if [ "${ZDM_SETUP_SKIP_SCHEMATHESIS:-}" = 1 ]; then
  say "schemathesis: skipped (ZDM_SETUP_SKIP_SCHEMATHESIS=1)"
elif [ -x "$venv/bin/schemathesis" ] && "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version ${SCHEMATHESIS_VERSION}$" \
  && { "$venv/bin/python" -c "$py_fixed" || [ -z "$(pick_python)" ] || ! "$(pick_python)" -c "$py_fixed"; }; then
  say "schemathesis ${SCHEMATHESIS_VERSION}: $venv/bin/schemathesis (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'))"
else
  PY=$(pick_python)
  [ -n "$PY" ] && "$PY" -c 'import venv, ensurepip' 2>/dev/null || die "python3 with venv is needed for schemathesis: apt-get install python3-venv (or set ZDM_SETUP_SKIP_SCHEMATHESIS=1)"
  "$PY" -c "$py_fixed" || say "warning: $PY is $("$PY" -c 'import platform; print(platform.python_version())'); before 3.11.8 a schemathesis run can crash on a CPython bug (gh-106905): set ZDM_PYTHON to a newer python3"
  say "installing schemathesis ${SCHEMATHESIS_VERSION} into $venv (pip, $PY)"
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==${SCHEMATHESIS_VERSION}" || die "pip install schemathesis==${SCHEMATHESIS_VERSION} failed (see above)"
  say "schemathesis ${SCHEMATHESIS_VERSION}: $venv/bin/schemathesis"
fi

# --- containers (the compose stack on podman) -------------------------------------
if [ "${ZDM_SETUP_SKIP_CONTAINERS:-}" = 1 ]; then
  say "containers: skipped (ZDM_SETUP_SKIP_CONTAINERS=1)"
else
  bash tools/containers/setup.sh
fi

say "done in $(( ($(date +%s%N) - started) / 1000000 )) ms"
