#!/usr/bin/env bash
# The one test command: installs the pinned test dependencies that are missing, then runs
# cargo fmt --check, clippy with -D warnings, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages: faketime pins the clock for tests of the binary; tar and xz unpack
# --- the fixture archive; Node and npm run tuf-js (machines usually come with them);
# --- unshare (util-linux) and ip (iproute2) run the quickstart test with the network cut off.
missing=()
command -v faketime >/dev/null || missing+=(faketime)
command -v unshare >/dev/null || missing+=(util-linux)
command -v ip >/dev/null || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
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

# --- npm: tuf-js, pinned by tests/interop/tuf-js/package-lock.json (integrity hashes, no
# --- registry URLs: .npmrc). npm ci again whenever the lockfile changed since the last one.
tufjs=tests/interop/tuf-js
if ! cmp -s "$tufjs/package-lock.json" "$tufjs/node_modules/.package-lock.json.installed" 2>/dev/null; then
  log "installing tuf-js into $tufjs/node_modules"
  (cd "$tufjs" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$tufjs/package-lock.json" "$tufjs/node_modules/.package-lock.json.installed"
fi
export TRUSTROOT_TEST_TUFJS="$PWD/$tufjs/client.mjs"

# --- crates: tough (pinned in tests/interop/tough-client/Cargo.toml), built as the
# --- trustroot-tough-client binary the interop tests run. Its first build compiles
# --- aws-lc-sys (C): minutes on a small machine, then cached in the target directory.
log "cargo build -p trustroot-tough-client"
cargo build --locked -p trustroot-tough-client
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export TRUSTROOT_TEST_TOUGH="$target_dir/debug/trustroot-tough-client"

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked --no-fail-fast
