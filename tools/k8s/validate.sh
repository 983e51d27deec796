#!/usr/bin/env bash
# Offline checks of deploy/k8s, no cluster and no network (CI runs this on every run):
#   1. every service under apps/ (the zdm CLI aside) has a folder in deploy/k8s/base;
#   2. `kustomize build` of every overlay;
#   3. kubeconform -strict against the schemas of each Kubernetes version in KUBE_SCHEMA_VERSIONS
#      (tools/k8s/env.sh), and a broken Deployment must be rejected, so the check can fail;
#   4. kube-score, failing on any warning; the checks ignored everywhere are listed below with
#      their reason, those ignored for one object carry a `kube-score/ignore` annotation there.
# Needs `tools/k8s/setup.sh offline`. Writes the built overlays to $ZDM_K8S_OUT (default a temp dir).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=env.sh
source "$root/tools/k8s/env.sh"
cd "$root"
say() { printf '[k8s-validate] %s\n' "$*"; }
die() {
  printf '[k8s-validate] FAILED: %s\n' "$*" >&2
  exit 1
}
for tool in kustomize kubeconform kube-score; do
  command -v "$tool" >/dev/null || die "$tool not found: run bash tools/k8s/setup.sh offline"
done
out=${ZDM_K8S_OUT:-$(mktemp -d)}
mkdir -p "$out"
started=$SECONDS

# 1. services in the base
for app in apps/*/; do
  name=$(basename "$app")
  [ "$name" = zdm ] && continue # the CLI: its image runs as migration Jobs (components/migration)
  [ -f "deploy/k8s/base/$name/kustomization.yaml" ] || die "service $name has no deploy/k8s/base/$name"
  grep -qx "  - $name" deploy/k8s/base/kustomization.yaml || die "deploy/k8s/base/kustomization.yaml does not list $name"
done
say "every service is in the base: $(ls -d deploy/k8s/base/*/ | xargs -n1 basename | tr '\n' ' ')"

# 2. build
overlays=()
for dir in deploy/k8s/overlays/*/; do
  o=$(basename "$dir")
  kustomize build "$dir" >"$out/$o.yaml" || die "kustomize build $dir"
  overlays+=("$o")
  say "kustomize build $o: $(grep -c '^kind:' "$out/$o.yaml") objects"
done

# 3. schemas
schemas="$KUBE_SCHEMAS/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
broken=$'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: broken}\nspec:\n  replicas: "2"\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i, imagePort: 80}]}\n'
for v in $KUBE_SCHEMA_VERSIONS; do
  [ -d "$KUBE_SCHEMAS/v$v-local-strict" ] || die "no schemas for Kubernetes $v: run bash tools/k8s/setup.sh offline"
  if printf '%s' "$broken" | kubeconform -strict -kubernetes-version "$v" -schema-location "$schemas" - >/dev/null 2>&1; then
    die "kubeconform accepted a broken Deployment against $v: the schemas are not in use"
  fi
  for o in "${overlays[@]}"; do
    summary=$(kubeconform -strict -summary -kubernetes-version "$v" -schema-location "$schemas" "$out/$o.yaml") ||
      die "kubeconform $o against Kubernetes $v: $summary"
    say "kubeconform -strict $o, Kubernetes $v: ${summary#*file - }"
  done
done

# 4. kube-score
ignored=(
  # Release images carry immutable tags (v1, v2); IfNotPresent lets a cluster without a
  # registry run images loaded into it (kind load, k3d image import).
  --ignore-test container-image-pull-policy
  # The Deployments spread over hosts and zones with topologySpreadConstraints (ScheduleAnyway);
  # a required host anti-affinity would leave the surge pod of a rolling update, or a second
  # color, unschedulable on a cluster with fewer nodes than pods.
  --ignore-test deployment-has-host-podantiaffinity
)
for o in "${overlays[@]}"; do
  report=$(kube-score score --exit-one-on-warning "${ignored[@]}" --output-format ci "$out/$o.yaml") ||
    die "kube-score $o:"$'\n'"$(printf '%s\n' "$report" | grep -v '^\[OK\]\|^\[SKIPPED\]' || true)"
  say "kube-score $o: $(printf '%s\n' "$report" | grep -c '^\[OK\]') checks passed, no warning or critical"
done
say "done in $((SECONDS - started)) s"
