#!/usr/bin/env bash
# Writes fresh identity keys to artifacts/run/identity.env (readable by this user only): one per service,
# base64 of 32 random bytes, and an admin token (48 hex digits). `make run` calls it on every start; `make token` and the diagnosis playbook's
# direct calls source the file (docs/security.md, "Direct calls").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly file=${1:-$root/artifacts/run/identity.env}
mkdir -p "$(dirname "$file")"
umask 077
{
  echo "# $(date -u +%FT%TZ): identity keys (scripts/identity-env.sh). Source it, then start a service with"
  echo "# Mesh__Identity__Keys__dev=\$MESH_IDENTITY_KEY_PAYMENTS (…_REPORTING, …_RENDER) and mint with make token."
  echo "export MESH_IDENTITY_KEY_ID=dev"
  # The admin token every process of this run accepts for admin writes (Authorization: Bearer …).
  echo "export MESH_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  for service in payments reporting render; do
    echo "export MESH_IDENTITY_KEY_${service^^}=$(head -c 32 /dev/urandom | base64 -w0)"
  done
} >"$file"
echo "$file"
