# shellcheck shell=bash
# Sourced by the scripts that start hosts themselves (bench, demo, tour): identity keys for this run, and the
# environment each host needs — the gateway every service's key, each service only its own (docs/security.md).

# identity_init FILE: fresh keys in FILE (scripts/identity-env.sh), loaded into this shell.
identity_init() {
  "$(dirname "${BASH_SOURCE[0]}")/identity-env.sh" "$1" >/dev/null
  # shellcheck source=/dev/null
  . "$1"
}

# identity_env PROJECT: one KEY=VALUE per line for the host MeshBulkheads.<Project> (nothing for other programs).
identity_env() {
  local service=${1#MeshBulkheads.} name variable
  service=${service,,}
  case $service in
    gateway | payments | reporting | render) echo "Mesh__Admin__Token=$MESH_ADMIN_TOKEN" ;;
  esac
  case $service in
    gateway)
      echo "Gateway__Identity__SigningKeyId=$MESH_IDENTITY_KEY_ID"
      for name in payments reporting render; do
        variable=MESH_IDENTITY_KEY_${name^^}
        echo "Gateway__Identity__Keys__${name}__${MESH_IDENTITY_KEY_ID}=${!variable}"
      done
      ;;
    payments | reporting | render)
      variable=MESH_IDENTITY_KEY_${service^^}
      echo "Mesh__Identity__Keys__${MESH_IDENTITY_KEY_ID}=${!variable}"
      ;;
  esac
}
