#!/usr/bin/env bash
# The one test command: installs the pinned test dependencies that are missing, then runs
# cargo fmt --check, clippy with -D warnings, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh

# --- Debian packages: faketime pins the clock for tests of the binary; tar and xz unpack
# --- the fixture archive; Node and npm run tuf-js (machines usually come with them);
# --- unshare (util-linux) and ip (iproute2) run the quickstart test with the network cut off;
# --- curl sets up the S3 store (moto, on 127.0.0.1) of the guides' object-storage rehearsals.
need_debian faketime:faketime node:nodejs npm:npm xz:xz-utils tar:tar unshare:util-linux ip:iproute2 curl:curl

# --- PKCS#11: SoftHSM2 (a real software token) and its tool, OpenSC's pkcs11-tool (keys of
# --- types trustroot does not generate), and Yubico's ykcs11 (loaded with no YubiKey present).
need_debian softhsm2-util:softhsm2 pkcs11-tool:opensc
need_debian_files /usr/lib/softhsm/libsofthsm2.so:softhsm2 /usr/lib/x86_64-linux-gnu/libykcs11.so:ykcs11

# --- Chromium (Debian, without recommends: no fonts or drivers beyond its own needs) opens
# --- the status page of `ceremony status --html` in the status page test.
need_debian --no-install-recommends chromium:chromium

# --- Prometheus: promtool checks every metrics output and runs the documented alert rules;
# --- the Prometheus server is started by the tests themselves (its service never runs).
need_prometheus

# --- PyPI: python-tuf's ngclient, which interop tests run against what we serve; moto, the
# --- AWS KMS and S3 the tests start as `$TRUSTROOT_TEST_PYTHON -m moto.server`; and
# --- gcp-storage-emulator, the Google Cloud Storage the GCS push tests start.
need_python_tuf

# --- npm: tuf-js, which interop tests run against what we serve; puppeteer-core and
# --- axe-core, which drive Chromium on the status page and check its accessibility.
need_tuf_js
need_status_page

# --- npm: Azurite, the Azure Blob Storage the Azure push tests start on 127.0.0.1.
need_azurite

# --- crates: tough (pinned in tests/interop/tough-client/Cargo.toml), built as the
# --- trustroot-tough-client binary the interop tests run. Its first build compiles
# --- aws-lc-sys (C): minutes on a small machine, then cached in the target directory.
log "cargo build -p trustroot-tough-client"
cargo build --locked -p trustroot-tough-client
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
export TRUSTROOT_TEST_TOUGH="$target_dir/debug/trustroot-tough-client"

log "crash points stay out of builds without tests"
# trustroot-store's crash-injection feature (the crash tests' hooks and their environment
# variables) reaches the binary only through the CLI's dev-dependency: checked on the
# features cargo resolves for a build without tests, so no second (release) build is needed.
if cargo tree --locked --workspace -e features,no-dev -i trustroot-store | grep -q crash-injection; then
  echo "a build without tests would enable trustroot-store/crash-injection (see cli/Cargo.toml)" >&2
  exit 1
fi

log "cargo fmt --check"
cargo fmt --all --check

log "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test"
cargo test --workspace --locked --no-fail-fast
