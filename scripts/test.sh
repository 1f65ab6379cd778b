#!/usr/bin/env bash
# The one test command: installs the pinned test dependencies that are missing, then runs
# cargo fmt --check, clippy with -D warnings, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages: faketime pins the clock for tests of the binary; tar and xz unpack
# --- the fixture archive.
missing=()
command -v faketime >/dev/null || missing+=(faketime)
command -v xz >/dev/null || missing+=(xz-utils)
command -v tar >/dev/null || missing+=(tar)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# --- PyPI: python-tuf's ngclient, which interop tests run against what we serve.
venv="${TRUSTROOT_TEST_VENV:-$HOME/.cache/trustroot/venv-$(sha256sum tests/interop/requirements.txt | cut -c1-12)}"
if ! "$venv/bin/python" -c 'import tuf.ngclient' 2>/dev/null; then
  log "installing python-tuf into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
fi
export TRUSTROOT_TEST_PYTHON="$venv/bin/python"

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked --no-fail-fast
