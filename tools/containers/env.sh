# Sourced by the container scripts: where podman's config and Docker API socket live.
export CONTAINERS_CONF="${CONTAINERS_CONF:-${XDG_CONFIG_HOME:-$HOME/.config}/zdm/containers.conf}"
export ZDM_PODMAN_SOCKET="${ZDM_PODMAN_SOCKET:-${XDG_RUNTIME_DIR:-/tmp}/zdm-podman/podman.sock}"
export PATH="$HOME/.docker/cli-plugins:$PATH"
