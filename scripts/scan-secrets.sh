#!/usr/bin/env bash
# Scans what a test run wrote for keys that must never be logged (docs/security.md, "Keys in logs"):
#   scripts/scan-secrets.sh KEYS_FILE PATH...   exit 1 naming each file and key label found (never the key), else 0
#   scripts/scan-secrets.sh --demo-keys          prints the demo API keys of the gateway's appsettings*.json, labelled
#   scripts/scan-secrets.sh --self-test          plants a canary key in a scratch file and proves the scan finds it
# KEYS_FILE has one "label<TAB>key" per line: the demo API keys (--demo-keys) and the identity keys every test process
# generated (TestIdentity appends them to $MESH_TEST_SECRETS_FILE). Keep that file outside the scanned paths.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# "tenant<TAB>key" of every ApiKey in the gateway's shipped settings (one "Id" line precedes each "ApiKey" line).
demo_keys() {
  local file
  for file in "$root"/gateway/MeshBulkheads.Gateway/appsettings*.json; do
    sed -n -e 's/^.*"Id": *"\([^"]*\)".*$/id \1/p' -e 's/^.*"ApiKey": *"\([^"]*\)".*$/key \1/p' "$file" |
      awk '$1 == "id" { id = $2 } $1 == "key" { printf "demo-api-key:%s\t%s\n", id, $2 }'
  done
}

# Prints "path: label" for every file under the paths that contains a key; returns 1 when any does.
scan() {
  local keys=$1 found=0 label key hits
  shift
  while IFS=$'\t' read -r label key; do
    # Keys shorter than 8 characters would match by accident (and none are that short).
    if [ -z "$key" ] || [ ${#key} -lt 8 ]; then
      continue
    fi

    # -F: a key is a literal (base64 has + and /); -l: file names only, so the key itself is never printed.
    hits=$(grep -rlF -e "$key" -- "$@" 2>/dev/null || true)
    if [ -n "$hits" ]; then
      found=1
      while IFS= read -r path; do
        echo "scan-secrets: $path contains $label"
      done <<<"$hits"
    fi
  done <"$keys"
  return "$found"
}

self_test() {
  local scratch canary
  scratch=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the scratch path is fixed
  trap "rm -rf '$scratch'" RETURN
  canary="canary-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
  mkdir -p "$scratch/run/TestResults"
  printf 'canary\t%s\n' "$canary" >"$scratch/keys"
  demo_keys >>"$scratch/keys"
  echo "info: a clean line" >"$scratch/run/clean.log"
  if ! scan "$scratch/keys" "$scratch/run" >/dev/null; then
    echo "scan-secrets: self-test failed: a clean tree was reported" >&2
    return 1
  fi

  printf 'warn: Rejected call with x-api-key %s from 127.0.0.1\n' "$canary" >"$scratch/run/TestResults/host.log"
  if scan "$scratch/keys" "$scratch/run" >/dev/null; then
    echo "scan-secrets: self-test failed: a planted key was not found" >&2
    return 1
  fi

  if [ "$(demo_keys | wc -l)" -lt 1 ]; then
    echo "scan-secrets: self-test failed: no demo API key found in the gateway's appsettings" >&2
    return 1
  fi
}

case "${1:-}" in
  --demo-keys) demo_keys ;;
  --self-test) self_test ;;
  "" | -h | --help)
    sed -n '2,7p' "${BASH_SOURCE[0]}"
    exit 2
    ;;
  *)
    keys=$1
    shift
    scan "$keys" "$@"
    ;;
esac
