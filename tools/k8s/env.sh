# shellcheck shell=bash
# Pinned versions and install folders of the Kubernetes tools (tools/k8s/setup.sh installs them).
# Sourced by the scripts in tools/k8s; source it in a shell to put the tools on PATH.
KUSTOMIZE_VERSION=v5.8.2           # v5.8.3 needs Go 1.27
KUBECONFORM_VERSION=v0.8.0
KUBE_SCORE_VERSION=v1.20.0
KUBERNETES_VALIDATE_VERSION=1.37.0 # PyPI package that ships the JSON schemas
KUBE_SCHEMA_VERSIONS="1.33.0 1.34.0"  # Kubernetes versions the manifests are validated against
KUBERNETES_VERSION=v1.34.2
ETCD_VERSION=v3.6.6
KWOK_VERSION=v0.8.0

ZDM_K8S_HOME=${ZDM_K8S_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/zdm/k8s}
KUSTOMIZE_DIR=$ZDM_K8S_HOME/kustomize-$KUSTOMIZE_VERSION
KUBECONFORM_DIR=$ZDM_K8S_HOME/kubeconform-$KUBECONFORM_VERSION
KUBE_SCORE_DIR=$ZDM_K8S_HOME/kube-score-$KUBE_SCORE_VERSION
KUBE_SCHEMAS=$ZDM_K8S_HOME/schemas-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION
KUBERNETES_DIR=$ZDM_K8S_HOME/kubernetes-$KUBERNETES_VERSION
ETCD_DIR=$ZDM_K8S_HOME/etcd-$ETCD_VERSION
KWOK_DIR=$ZDM_K8S_HOME/kwok-$KWOK_VERSION
KWOK_STAGES=$KWOK_DIR/stages/stages.yaml
export PATH="$KUSTOMIZE_DIR:$KUBECONFORM_DIR:$KUBE_SCORE_DIR:$KUBERNETES_DIR:$ETCD_DIR:$KWOK_DIR:$PATH"
