#!/usr/bin/env bash
# Installs the Kubernetes tools that deploy/k8s is checked with, pinned, from the Go module proxy
# and PyPI, into ZDM_K8S_HOME (default ~/.cache/zdm/k8s), one folder per tool and version:
#   offline: kustomize, kubeconform, kube-score, JSON schemas for KUBE_SCHEMA_VERSIONS
#            (from PyPI kubernetes-validate, rewritten so kubeconform can read them offline)
#   cluster: kube-apiserver, kube-controller-manager, kube-scheduler and kubectl (built from the
#            k8s.io/kubernetes module source), etcd, kwok and its stage files
# Usage: tools/k8s/setup.sh [offline|cluster|all] (default all). Idempotent: a tool already in its
# folder is kept, so a second run takes about a second. A cold `all` builds for 4-5 minutes on an
# idle 2-core machine. Prints where each tool is; tools/k8s/env.sh gives the same paths to scripts.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"
what=${1:-all}
case "$what" in offline | cluster | all) ;; *)
  echo "usage: $0 [offline|cluster|all]" >&2
  exit 2
  ;;
esac

started=$SECONDS
say() { printf '[k8s-setup] %s\n' "$*"; }
die() {
  printf '[k8s-setup] ERROR: %s\n' "$*" >&2
  exit 1
}
command -v go >/dev/null 2>&1 || die "Go >= 1.24 is needed (https://go.dev/dl/)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# put SRC DIR: SRC becomes DIR in one rename, so DIR is either absent or complete. When another
# run of this script got there first, its DIR is kept.
put() {
  mkdir -p "$(dirname "$2")"
  mv -T "$1" "$2" 2>/dev/null || [ -d "$2" ] || die "could not move $1 to $2"
}

# go_install DIR MODULE/PATH@VERSION: `go install` into DIR, keeping DIR absent until it worked.
go_install() {
  local dir=$1 pkg=$2 t=$SECONDS
  [ -d "$dir" ] && return 0
  say "building $pkg"
  GOBIN="$work/gobin-$(basename "$dir")" go install "$pkg" || die "go install $pkg failed"
  put "$work/gobin-$(basename "$dir")" "$dir"
  say "built $pkg in $((SECONDS - t)) s"
}

# module_source MODULE@VERSION: a writable copy of a module's source, printed as a path.
module_source() {
  local json dir copy
  json=$(go mod download -json "$1") || die "go mod download $1 failed: $json"
  dir=$(printf '%s\n' "$json" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [ -d "$dir" ] || die "go mod download $1 gave no source directory"
  copy="$work/src-$(basename "${1%@*}")"
  cp -R "$dir/." "$copy"
  chmod -R u+w "$copy"
  printf '%s\n' "$copy"
}

offline() {
  go_install "$KUSTOMIZE_DIR" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  go_install "$KUBECONFORM_DIR" "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  go_install "$KUBE_SCORE_DIR" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"

  local missing=() v
  for v in $KUBE_SCHEMA_VERSIONS; do
    [ -f "$KUBE_SCHEMAS/v$v-local-strict/_definitions.json" ] || missing+=("$v")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local t=$SECONDS py
  py=$(command -v python3 || true)
  [ -n "$py" ] || die "python3 is needed to fetch the schemas from PyPI"
  say "fetching kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI for schemas ${missing[*]}"
  "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$work/wheel" \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" || die "pip download kubernetes-validate failed"
  # The shipped schemas carry an $id on kubernetes.io and $refs to /api/_definitions.json, which
  # kubeconform would try to fetch: drop the $id and point the $refs at the file next to them.
  "$py" "$here/schemas.py" "$work"/wheel/*.whl "$KUBE_SCHEMAS" "${missing[@]}" || die "extracting the schemas failed"
  say "schemas ${missing[*]} in $((SECONDS - t)) s"
}

cluster() {
  if [ ! -d "$KUBERNETES_DIR" ]; then
    local t=$SECONDS src
    # `go install k8s.io/kubernetes/cmd/...` refuses the module's replace directives (they point
    # into its staging/ tree): build from the source with each staging module replaced by its
    # published release instead.
    say "building kube-apiserver, kube-controller-manager, kube-scheduler and kubectl $KUBERNETES_VERSION (about 4 minutes on an idle machine)"
    src=$(module_source "k8s.io/kubernetes@$KUBERNETES_VERSION")
    rm -rf "$src/vendor" "$src/go.work" "$src/go.work.sum"
    sed -i -E "s#^(\s*)(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+\$#\1\2 => \2 v0.${KUBERNETES_VERSION#v1.}#" "$src/go.mod"
    ! grep -q '=> ./staging' "$src/go.mod" || die "a staging replace is left in k8s.io/kubernetes's go.mod"
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
    ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"
    ld+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
    mkdir -p "$work/kubernetes"
    (cd "$src" && GOFLAGS=-mod=mod go build -ldflags "$ld" -o "$work/kubernetes/" \
      ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kubectl) ||
      die "go build of Kubernetes $KUBERNETES_VERSION failed"
    put "$work/kubernetes" "$KUBERNETES_DIR"
    rm -rf "$src"
    say "built Kubernetes $KUBERNETES_VERSION in $((SECONDS - t)) s"
  fi
  if [ ! -d "$ETCD_DIR" ]; then
    local t=$SECONDS src
    # etcd's server module replaces its sibling modules with ../ paths: use their releases.
    say "building etcd $ETCD_VERSION"
    src=$(module_source "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
    sed -i -E '/^replace \($/,/^\)$/d' "$src/go.mod"
    mkdir -p "$work/etcd"
    (cd "$src" && GOFLAGS=-mod=mod go build -ldflags "-s -w" -o "$work/etcd/etcd" .) || die "go build of etcd $ETCD_VERSION failed"
    put "$work/etcd" "$ETCD_DIR"
    say "built etcd $ETCD_VERSION in $((SECONDS - t)) s"
  fi
  if [ ! -d "$KWOK_DIR" ]; then
    go_install "$work/kwok-bin" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
    local json dir
    json=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION") || die "go mod download kwok failed"
    dir=$(printf '%s\n' "$json" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    mkdir -p "$work/kwok-bin/stages"
    # The stages that make fake nodes Ready and keep them alive, and take pods through their life.
    for f in "$dir"/kustomize/stage/node/fast/node-initialize.yaml "$dir"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
      "$dir"/kustomize/stage/pod/general/pod-*.yaml; do
      printf -- '---\n'
      cat "$f"
    done >"$work/kwok-bin/stages/stages.yaml"
    put "$work/kwok-bin" "$KWOK_DIR"
  fi
}

case "$what" in
offline) offline ;;
cluster) cluster ;;
all)
  offline
  cluster
  ;;
esac
[ "$what" = cluster ] || say "kustomize $KUSTOMIZE_VERSION, kubeconform $KUBECONFORM_VERSION, kube-score $KUBE_SCORE_VERSION, schemas for Kubernetes $KUBE_SCHEMA_VERSIONS in $ZDM_K8S_HOME"
[ "$what" = offline ] || say "Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION in $ZDM_K8S_HOME"
say "done in $((SECONDS - started)) s"
