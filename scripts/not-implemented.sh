#!/usr/bin/env bash
# Placeholder for a make target whose tooling does not exist yet: says where it is planned, fails.
set -euo pipefail
target=${1:?usage: not-implemented.sh TARGET WHERE}
where=${2:?usage: not-implemented.sh TARGET WHERE}
echo "make $target: not yet implemented: $where" >&2
exit 1
