#!/usr/bin/env bash
# Installs minpriv from the action's own checkout into $MINPRIV_ROOT, unless the cache
# restored it there, and puts it on the PATH of the next steps.
set -euo pipefail
root=${MINPRIV_ROOT:?the install root (from action/key.sh)}
bin="$root/bin/minpriv"
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
    echo "minpriv: $("$bin" --version) (restored from the cache)"
else
    command -v cargo >/dev/null || {
        echo "::error::minpriv: cargo is needed to build minpriv (install a Rust toolchain first, e.g. with rustup)"
        exit 1
    }
    cargo install --locked --path "${GITHUB_ACTION_PATH:?the checkout of the action}" --root "$root"
fi
echo "$root/bin" >> "${GITHUB_PATH:?}"
