#!/usr/bin/env bash
# The action's cache key and install root: a hash of the source minpriv is built from (the
# action's own checkout), so a new commit builds anew and the same commit is restored.
# Writes `key=` and `root=` to $GITHUB_OUTPUT.
set -euo pipefail
src=${GITHUB_ACTION_PATH:?the checkout of the action}
cd "$src"
inputs=()
for path in Cargo.toml Cargo.lock build.rs src data; do
    [ -e "$path" ] && inputs+=("$path")
done
hash=$(find "${inputs[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
    sha256sum | cut -c1-16)
root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/minpriv-$hash"
{
    echo "key=minpriv-${RUNNER_OS:-unknown}-${RUNNER_ARCH:-unknown}-$hash"
    echo "root=$root"
} >> "${GITHUB_OUTPUT:?}"
