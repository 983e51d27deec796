#!/bin/sh
# The auth hub's Ed25519 signing key for the compose stack: ./signing-key.sh [FILE]
# Writes FILE (default secrets/auth-hub-signing-key.pem next to this script; git ignores secrets/)
# unless it exists: rerunning keeps the key, so tokens already issued stay valid. compose.yml
# mounts it as the secret auth-hub-signing-key (AUTH_HUB_SIGNING_KEY_FILE names another file).
# The folder is private (0700); the file is 0644 inside it because the container's user (node) is
# not its owner and must read it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
file=${1:-$here/secrets/auth-hub-signing-key.pem}
if [ -s "$file" ]; then
  echo "signing-key.sh: $file exists, kept"
  exit 0
fi
dir=$(dirname "$file")
mkdir -p "$dir"
chmod 700 "$dir"
openssl genpkey -algorithm ed25519 -out "$file"
chmod 644 "$file"
echo "signing-key.sh: wrote an Ed25519 key to $file"
