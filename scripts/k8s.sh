#!/usr/bin/env bash
# The cluster workflow behind the make targets (a user's machine: Docker or Podman, kind or minikube).
# Usage: scripts/k8s.sh doctor|images|kind-up|kind-load|kind-down|minikube-up|minikube-load|minikube-down|deploy|undeploy
# Environment: CLUSTER (meshbulkheads), NAMESPACE (meshbulkheads), RELEASE (mesh), ENGINE (docker or
# podman; found on PATH), PLATFORM (kind or minikube; for doctor and deploy, default kind),
# HELM_ARGS (extra helm arguments, e.g. "-f my-values.yaml").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
readonly chart="$root/helm/meshbulkheads"
# meshload is the load generator (helm test and the chart's load Job).
readonly images=(gateway payments reporting render meshload)
readonly min_kind="0.24.0"       # kindnet enforces NetworkPolicies from v0.24
readonly min_kubectl="1.30.0"    # native preStop.sleep and gRPC probes (the chart's kubeVersion)
readonly min_helm="3.14.0"
CLUSTER=${CLUSTER:-meshbulkheads}
NAMESPACE=${NAMESPACE:-meshbulkheads}
RELEASE=${RELEASE:-mesh}
PLATFORM=${PLATFORM:-kind}
HELM_ARGS=${HELM_ARGS:-}

app_version() {
  sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$chart/Chart.yaml"
}

engine() {
  if [ -n "${ENGINE:-}" ]; then
    echo "$ENGINE"
  elif command -v docker >/dev/null 2>&1; then
    echo docker
  elif command -v podman >/dev/null 2>&1; then
    echo podman
  else
    echo "k8s.sh: neither docker nor podman is on PATH (set ENGINE)" >&2
    return 1
  fi
}

helm_bin() {
  if command -v helm >/dev/null 2>&1; then
    command -v helm
  else
    "$root/scripts/ensure-deps.sh" helm >&2
    echo "$root/.tools/bin/helm"
  fi
}

# version_ge A B: A >= B for dotted versions (a leading v is ignored).
version_ge() {
  [ "$(printf '%s\n%s\n' "${2#v}" "${1#v}" | sort -V | head -n1)" = "${2#v}" ]
}

check() {
  local name=$1 version=$2 minimum=$3
  if [ -z "$version" ]; then
    printf '  %-10s missing (need >= %s)\n' "$name" "$minimum"
    return 1
  fi
  if version_ge "$version" "$minimum"; then
    printf '  %-10s %-12s ok (>= %s)\n' "$name" "$version" "$minimum"
  else
    printf '  %-10s %-12s too old (need >= %s)\n' "$name" "$version" "$minimum"
    return 1
  fi
}

doctor() {
  local failed=0 eng version
  echo "make doctor ($PLATFORM):"
  if eng=$(engine 2>/dev/null); then
    # `version` exits non-zero when the engine is down, after printing the client's version.
    version=$("$eng" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true)
    check "$eng" "$version" "20.10.0" || failed=1
    "$eng" info >/dev/null 2>&1 || { echo "  $eng is installed but its engine does not answer ($eng info)"; failed=1; }
  else
    echo "  docker/podman missing"
    failed=1
  fi
  if [ "$PLATFORM" = minikube ]; then
    version=$(minikube version --short 2>/dev/null || true)
    check minikube "$version" "1.33.0" || failed=1
  else
    version=$(kind version 2>/dev/null | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true)
    check kind "$version" "$min_kind" || failed=1
  fi
  version=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\(v[^"]*\)".*/\1/p' | head -n1 || true)
  check kubectl "$version" "$min_kubectl" || failed=1
  version=$("$(helm_bin)" version --short 2>/dev/null | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' || true)
  check helm "$version" "$min_helm" || failed=1
  # NetworkPolicy enforcement needs a CNI that implements it.
  if kubectl cluster-info >/dev/null 2>&1; then
    if kubectl -n kube-system get pods -l k8s-app=calico-node -o name 2>/dev/null | grep -q .; then
      echo "  CNI        calico: NetworkPolicies enforced"
    elif kubectl -n kube-system get daemonset kindnet -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null | grep -q kindnetd; then
      echo "  CNI        kindnet (kind >= $min_kind enforces NetworkPolicies)"
    else
      echo "  CNI        unknown: check that it enforces NetworkPolicies (minikube: start with --cni=calico)"
    fi
  else
    echo "  CNI        no cluster yet (checked after make kind-up / minikube-up)"
  fi
  if [ "$failed" -ne 0 ]; then
    echo "make doctor: fix the lines above (docs/kubernetes.md, 'What you need')." >&2
    return 1
  fi
  echo "make doctor: ready"
}

build_images() {
  local eng version name
  eng=$(engine)
  version=$(app_version)
  for name in "${images[@]}"; do
    echo "k8s.sh: building meshbulkheads/$name:$version with $eng"
    # podman would name it localhost/meshbulkheads/…; the fully qualified docker.io name is the one
    # the chart's short name means inside the cluster.
    "$eng" build --target "$name" -t "docker.io/meshbulkheads/$name:$version" "$root"
  done
}

kind_up() {
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    echo "k8s.sh: kind cluster $CLUSTER exists"
  else
    kind create cluster --name "$CLUSTER" --config "$root/k8s/kind/cluster.yaml" --wait 120s
  fi
  kubectl config use-context "kind-$CLUSTER" >/dev/null
  # HPA CPU targets (render) need metrics-server, which kind lacks (docs/autoscaling.md).
  "$root/scripts/install-metrics-server.sh"
}

kind_load() {
  local eng version name archive
  eng=$(engine)
  version=$(app_version)
  for name in "${images[@]}"; do
    if [ "$eng" = docker ]; then
      kind load docker-image --name "$CLUSTER" "meshbulkheads/$name:$version"
    else
      archive=$(mktemp --suffix=.tar)
      podman save -o "$archive" "docker.io/meshbulkheads/$name:$version"
      kind load image-archive --name "$CLUSTER" "$archive"
      rm -f "$archive"
    fi
  done
}

kind_down() {
  kind delete cluster --name "$CLUSTER"
}

minikube_up() {
  # Calico enforces NetworkPolicies (the default minikube CNI does not); 4 CPUs / 6 GiB fit the chart's requests.
  minikube status -p "$CLUSTER" >/dev/null 2>&1 \
    || minikube start -p "$CLUSTER" --cni=calico --nodes=2 --cpus=4 --memory=6g --kubernetes-version=stable
  kubectl config use-context "$CLUSTER" >/dev/null
}

minikube_load() {
  local version name
  version=$(app_version)
  for name in "${images[@]}"; do
    minikube -p "$CLUSTER" image load "meshbulkheads/$name:$version"
  done
}

minikube_down() {
  minikube delete -p "$CLUSTER"
}

deploy() {
  local helm extra=()
  helm=$(helm_bin)
  # The namespace enforces the restricted Pod Security Standard: a pod the chart renders
  # outside it would be refused at admission, not run.
  kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
  kubectl label namespace "$NAMESPACE" --overwrite \
    pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest \
    pod-security.kubernetes.io/warn=restricted \
    pod-security.kubernetes.io/audit=restricted
  if [ "$PLATFORM" = minikube ]; then
    extra+=(-f "$chart/ci/minikube-values.yaml")
  fi
  # shellcheck disable=SC2086 # HELM_ARGS is a list of words on purpose
  "$helm" upgrade --install "$RELEASE" "$chart" --namespace "$NAMESPACE" \
    --wait --timeout 10m "${extra[@]}" $HELM_ARGS
  kubectl -n "$NAMESPACE" get pods -o wide
}

undeploy() {
  local helm
  helm=$(helm_bin)
  "$helm" uninstall "$RELEASE" --namespace "$NAMESPACE" --wait || true
  kubectl delete namespace "$NAMESPACE" --ignore-not-found --wait
}

case "${1:-}" in
  doctor) doctor ;;
  images) build_images ;;
  kind-up) kind_up ;;
  kind-load) kind_load ;;
  kind-down) kind_down ;;
  minikube-up) minikube_up ;;
  minikube-load) minikube_load ;;
  minikube-down) minikube_down ;;
  deploy) deploy ;;
  undeploy) undeploy ;;
  *)
    echo "usage: $0 doctor|images|kind-up|kind-load|kind-down|minikube-up|minikube-load|minikube-down|deploy|undeploy" >&2
    exit 2
    ;;
esac
