#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1 with simulated nodes, for checking deploy/k8s:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, and kwok, which plays the kubelet
# of 3 fake nodes (one per zone): it marks pods Running and Ready, and Job pods Succeeded. No
# container runs; images are never pulled.
#   tools/k8s/cluster.sh up DIR     start everything, keep state, logs and pids in DIR, write
#                                   DIR/kubeconfig; returns once the nodes are Ready
#   tools/k8s/cluster.sh down DIR   stop what `up` started in DIR
# Needs `tools/k8s/setup.sh cluster`. Each component listens on a free port of 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"
cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] && { [ "$cmd" = up ] || [ "$cmd" = down ]; } || {
  echo "usage: $0 up|down DIR" >&2
  exit 2
}
say() { printf '[k8s-cluster] %s\n' "$*"; }
die() {
  printf '[k8s-cluster] ERROR: %s\n' "$*" >&2
  exit 1
}

down() {
  local name pid
  # Reverse order of start; each is a single process (no children).
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$dir/$name.pid" ] || continue
    pid=$(cat "$dir/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/$name.pid"
  done
}
if [ "$cmd" = down ]; then
  down
  say "stopped (logs in $dir)"
  exit 0
fi

for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl openssl; do
  command -v "$tool" >/dev/null || die "$tool not found: run bash tools/k8s/setup.sh cluster"
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
started=$(date +%s%N)
elapsed() { printf '%d.%d s' $((($(date +%s%N) - started) / 1000000000)) $((($(date +%s%N) - started) / 100000000 % 10)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# start NAME COMMAND...: in the background (in the caller's process group, so that whoever
# kills that group stops it too), output to DIR/NAME.log, pid in DIR/NAME.pid
start() {
  local name=$1
  shift
  "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}
# until_ok SECONDS WHAT COMMAND...: retry COMMAND every 0.2 s
until_ok() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { down; die "$what not ready after ${limit} s (logs in $dir)"; }
    sleep 0.2
  done
}

# Credentials: a service-account signing key and one static token in system:masters, which the
# controller manager, the scheduler, kwok and kubectl share. The API server makes its own
# self-signed serving certificate in DIR/certs.
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
token=$(openssl rand -hex 16)
printf '%s,admin,admin,system:masters\n' "$token" >"$dir/tokens.csv"

etcd_port=$(free_port)
peer_port=$(free_port)
api_port=$(free_port)
kubectl config --kubeconfig "$dir/kubeconfig" set-cluster local --server "https://127.0.0.1:$api_port" --insecure-skip-tls-verify=true >/dev/null
kubectl config --kubeconfig "$dir/kubeconfig" set-credentials admin --token "$token" >/dev/null
kubectl config --kubeconfig "$dir/kubeconfig" set-context local --cluster local --user admin >/dev/null
kubectl config --kubeconfig "$dir/kubeconfig" use-context local >/dev/null
export KUBECONFIG=$dir/kubeconfig

start etcd etcd --name local --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-cluster "local=http://127.0.0.1:$peer_port" --listen-metrics-urls "" --log-level warn
until_ok 30 etcd curl -sf "http://127.0.0.1:$etcd_port/health"
say "etcd $ETCD_VERSION on 127.0.0.1:$etcd_port ($(elapsed))"

start kube-apiserver kube-apiserver --etcd-servers "http://127.0.0.1:$etcd_port" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" --cert-dir "$dir/certs" \
  --token-auth-file "$dir/tokens.csv" --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$dir/sa.pub" \
  --service-account-signing-key-file "$dir/sa.key" --service-cluster-ip-range 10.96.0.0/16
until_ok 60 kube-apiserver kubectl get --raw /readyz
say "kube-apiserver $KUBERNETES_VERSION on https://127.0.0.1:$api_port ($(elapsed))"

# The token controller is off: it would need the cluster's CA, and no pod mounts a token here.
start kube-controller-manager kube-controller-manager --kubeconfig "$dir/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false \
  --controllers '*,-serviceaccount-token' --service-account-private-key-file "$dir/sa.key"
start kube-scheduler kube-scheduler --kubeconfig "$dir/kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false
start kwok kwok --kubeconfig "$dir/kubeconfig" --config "$KWOK_STAGES" \
  --manage-nodes-with-label-selector type=kwok --cidr 10.244.0.0/16 --node-ip 10.0.0.1 \
  --server-address "127.0.0.1:$(free_port)"

# Three fake nodes, one per zone, so topology spread has somewhere to spread.
for zone in a b c; do
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-$zone
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-$zone
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: zone-$zone
spec: {}
EOF
  echo ---
done | kubectl apply -f - >/dev/null
until_ok 60 "the kwok nodes" kubectl wait --for=condition=Ready node -l type=kwok --timeout=1s
# The size of a small real node (kwok's default lists no ephemeral storage, which pods request).
size='{"cpu":"8","memory":"32Gi","ephemeral-storage":"100Gi","pods":"110"}'
for zone in a b c; do
  kubectl patch node "kwok-$zone" --subresource=status --type=merge \
    -p "{\"status\":{\"allocatable\":$size,\"capacity\":$size}}" >/dev/null
done
until_ok 60 "the default ServiceAccount" kubectl get serviceaccount default
say "controller manager, scheduler, kwok with 3 Ready nodes ($(elapsed)); export KUBECONFIG=$dir/kubeconfig"
