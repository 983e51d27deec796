#!/usr/bin/env bash
# deploy/k8s against a real API server (tools/k8s/cluster.sh: etcd, kube-apiserver, controller
# manager, scheduler, kwok nodes on 127.0.0.1; pods are simulated, no container runs). CI runs it:
#   1. every overlay: server-side dry-run, then server-side apply, warnings as errors (a pod spec
#      the namespace's restricted Pod Security profile would refuse is a warning on a Deployment);
#   2. every Deployment and StatefulSet rolls out; the Pod Security profile refuses a pod without
#      the base's securityContext;
#   3. a rolling update (dev) under `kubectl rollout status`, with the available count never
#      below the desired count;
#   4. blue-green (dev-blue-green): each service's Service's EndpointSlices hold the blue pods,
#      then, after one patch of the selector, exactly the green pods;
#   5. migration Jobs: a resumed data Job and the orchestrator Jobs (customers, orders) reach
#      Complete, the others stay suspended.
# Prints each step's time, and stops the cluster at the end, also on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=env.sh
source "$root/tools/k8s/env.sh"
cd "$root"
dir=$(mktemp -d)
trap 'bash tools/k8s/cluster.sh down "$dir" >/dev/null; rm -rf "$dir"' EXIT
t0=$(date +%s%N)
last=$t0
secs() { printf '%d.%d' $(($1 / 1000000000)) $(($1 / 100000000 % 10)); }
step() {
  local now
  now=$(date +%s%N)
  printf '[k8s-live] %s (%s s; t=%s s)\n' "$*" "$(secs $((now - last)))" "$(secs $((now - t0)))"
  last=$now
}
die() {
  printf '[k8s-live] FAILED: %s\n' "$*" >&2
  exit 1
}
# eventually SECONDS WHAT COMMAND...: retry COMMAND every 0.5 s until it succeeds
eventually() {
  local limit=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || die "$what: not within ${limit} s"
    sleep 0.5
  done
}

bash tools/k8s/cluster.sh up "$dir"
export KUBECONFIG=$dir/kubeconfig
step "cluster up: $(kubectl version -o json | python3 -c 'import json,sys; v=json.load(sys.stdin); print("client", v["clientVersion"]["gitVersion"], "server", v["serverVersion"]["gitVersion"])')"

# No storage provisioner runs here: one volume per StatefulSet claim of the dev overlays.
for i in 1 2 3 4; do
  cat <<EOF
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-$i
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  hostPath:
    path: /var/lib/zdm-volumes/$i
---
EOF
done | kubectl apply -f - >/dev/null

# 1. dry-run and apply every overlay
openssl genpkey -algorithm ed25519 -out "$dir/signing-key.pem"
overlays=()
for path in deploy/k8s/overlays/*/; do
  o=$(basename "$path")
  overlays+=("$o")
  ns=$(sed -n 's/^namespace: //p' "$path/kustomization.yaml")
  [ -n "$ns" ] || die "overlay $o sets no namespace"
  kubectl create namespace "$ns" >/dev/null
  case "$o" in production*)
    # What an operator provides in production (components/external-stores).
    for service in auth-hub customers orders; do
      kubectl -n "$ns" create secret generic "$service-stores" --from-literal=MONGO_URL='mongodb://db-1.example:27017/?replicaSet=rs0' \
        --from-literal=REDIS_URL=rediss://redis-1.example:6380 \
        --from-literal=UNLEASH_URL=https://unleash.example --from-literal=UNLEASH_CLIENT_TOKEN=default:production.example >/dev/null
    done
    kubectl -n "$ns" create secret generic zdm-stores --from-literal=MONGO_URL='mongodb://db-1.example:27017/?replicaSet=rs0' \
      --from-literal=UNLEASH_URL=https://unleash.example --from-literal=UNLEASH_ADMIN_TOKEN='*:*.example' >/dev/null
    ;;
  esac
  # The auth hub's signing key: made by the operator in every namespace (deploy/k8s/README.md).
  kubectl -n "$ns" create secret generic auth-hub-signing-key --from-file=signing-key.pem="$dir/signing-key.pem" >/dev/null
  kustomize build "$path" >"$dir/$o.yaml"
  kubectl apply --server-side --dry-run=server --warnings-as-errors -f "$dir/$o.yaml" >"$dir/$o.dry-run" ||
    die "server-side dry-run of $o: $(cat "$dir/$o.dry-run")"
  step "server-side dry-run of $o: $(wc -l <"$dir/$o.dry-run") objects accepted"
  kubectl apply --server-side --warnings-as-errors -f "$dir/$o.yaml" >"$dir/$o.apply" || die "apply of $o: $(cat "$dir/$o.apply")"
  step "server-side apply of $o: $(grep -c 'serverside-applied' "$dir/$o.apply") objects"
done

# 2. everything rolls out
for o in "${overlays[@]}"; do
  ns=$(sed -n 's/^namespace: //p' "deploy/k8s/overlays/$o/kustomization.yaml")
  for w in $(kubectl -n "$ns" get deployments,statefulsets -o name); do
    kubectl -n "$ns" rollout status "$w" --timeout=180s >/dev/null || die "$ns $w did not roll out"
  done
  step "$o: $(kubectl -n "$ns" get pods --field-selector=status.phase=Running -o name | wc -l) pods Running; $(kubectl -n "$ns" get deployments,statefulsets -o name | tr '\n' ' ')rolled out"
done
kubectl -n zdm-dev wait --for=condition=Complete job/mongo-replica-set --timeout=120s >/dev/null ||
  die "the replica-set Job did not complete"
for service in auth-hub customers orders; do
  spread=$(kubectl -n zdm get pods -l app.kubernetes.io/name=$service -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
  [ "$spread" -eq 3 ] || die "the 3 production $service pods are on $spread nodes, not 3"
done
# A pod without the securityContext of the base: the namespace must refuse it.
if kubectl -n zdm-dev run plain --image=zdm/customers:v2 --dry-run=server >"$dir/psa.log" 2>&1; then
  die "the restricted Pod Security profile let a pod without a securityContext in"
fi
grep -q 'violates PodSecurity "restricted' "$dir/psa.log" || die "a plain pod was refused for another reason: $(cat "$dir/psa.log")"
step "mongo-replica-set Job Complete; production pods of each service on 3 nodes; a pod without securityContext refused by Pod Security"

# 3. a rolling update never drops below the desired count
ns=zdm-dev
desired=$(kubectl -n $ns get deployment customers -o jsonpath='{.spec.replicas}')
(
  while :; do
    kubectl -n $ns get deployment customers -o jsonpath='{.status.availableReplicas}{"\n"}' 2>/dev/null || true
    sleep 0.2
  done
) >"$dir/available.log" &
watcher=$!
kubectl -n $ns set image deployment/customers customers=zdm/customers:v1 >/dev/null
kubectl -n $ns rollout status deployment/customers --timeout=180s | uniq
kill $watcher
wait $watcher 2>/dev/null || true
least=$(grep -E '^[0-9]+$' "$dir/available.log" | sort -n | head -1)
[ "${least:-0}" -ge "$desired" ] || die "available replicas fell to ${least:-?} of $desired during the rolling update"
kubectl -n $ns rollout undo deployment/customers >/dev/null
kubectl -n $ns rollout status deployment/customers --timeout=180s >/dev/null
step "rolling update v2 -> v1 -> v2 in $ns: available never below $desired ($(wc -l <"$dir/available.log") samples)"

# 4. blue-green: each Service's endpoints move from its blue pods to its green pods
ns=zdm-dev-blue-green
pod_ips() { kubectl -n $ns get pods -l "app.kubernetes.io/name=$1,color=$2" -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort; }
endpoint_ips() {
  kubectl -n $ns get endpointslices -l kubernetes.io/service-name="$1" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | sort
}
serves() { [ "$(endpoint_ips "$1")" = "$(pod_ips "$1" "$2")" ] && [ -n "$(pod_ips "$1" "$2")" ]; }
for service in auth-hub customers orders; do
  eventually 30 "the $service Service's endpoints are the blue pods" serves $service blue
  kubectl -n $ns rollout status deployment/$service-green --timeout=180s >/dev/null
  kubectl -n $ns patch service $service --type=merge -p '{"spec":{"selector":{"color":"green"}}}' >/dev/null
  eventually 30 "the $service Service's endpoints are the green pods" serves $service green
  step "blue-green switch of $service in $ns: EndpointSlices went from blue ($(pod_ips $service blue | paste -sd' ')) to green ($(pod_ips $service green | paste -sd' '))"
done

# 5. migration Jobs
for job in zdm-dev/zdm-customers-full-name-backfill zdm-dev-blue-green/zdm-customers-full-name-run zdm-dev-blue-green/zdm-orders-money-run; do
  ns=${job%/*}
  name=${job#*/}
  kubectl -n "$ns" patch job "$name" --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
  kubectl -n "$ns" wait --for=condition=Complete "job/$name" --timeout=120s >/dev/null || die "$job did not complete"
  step "Job $job resumed and Complete ($(kubectl -n "$ns" get job "$name" -o jsonpath='{.status.succeeded}') pod succeeded)"
done
running=$(kubectl -n zdm-dev get pods -l app.kubernetes.io/name=zdm -o name | wc -l)
[ "$running" -eq 1 ] || die "$running zdm pods in zdm-dev: the suspended Jobs must not start"
suspended=$(kubectl -n zdm-dev get jobs -l app.kubernetes.io/name=zdm -o jsonpath='{range .items[?(@.spec.suspend==true)]}{.metadata.name}{"\n"}{end}' | wc -l)
step "the other $suspended zdm Jobs in zdm-dev stay suspended"

bash tools/k8s/cluster.sh down "$dir" >/dev/null
step "cluster down"
