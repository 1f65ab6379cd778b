#!/usr/bin/env bash
# The benchmark (docs/benchmarks.md): installs the peers that are missing (python-tuf,
# tuf-js, tuftool 0.17.0, curl, GNU time, nginx and wrk), builds trustroot and trustroot-bench in release
# mode, and runs every measurement once. Not part of the test run: it takes a while.
#
# usage: scripts/bench.sh [WORK_DIR] [trustroot-bench run options, e.g. --quick]
# The table goes to standard output and WORK_DIR/results.md (default WORK_DIR: bench-work).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh

work="${1:-bench-work}"
[ $# -gt 0 ] && shift

need_debian curl:curl /usr/bin/time:time node:nodejs npm:npm zstd:zstd
# `serve`: nginx beside `mirror serve`, loaded by wrk. The benchmark starts nginx itself
# (its own configuration, 127.0.0.1, a random port) and stops it by pid; Debian would
# start an installed nginx as a service, so policy-rc.d (Debian's switch) forbids that
# while it is installed here.
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  policy=/usr/sbin/policy-rc.d
  added_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    added_policy=1
  fi
  need_debian nginx:nginx wrk:wrk
  [ -n "$added_policy" ] && as_root rm -f "$policy"
fi
# `signers` makes its keys on a SoftHSM2 token.
need_debian softhsm2-util:softhsm2
need_debian_files /usr/lib/softhsm/libsofthsm2.so:softhsm2
need_python_tuf
need_tuf_js
need_tuftool

# `store` measures a push beside `aws s3 sync` (the transport floor): awscli goes into a
# venv of its own, never into the test venv (it would fight moto's botocore pin).
need_awscli() {
  local venv="$HOME/.cache/trustroot/bench-awscli-1.46.2"
  if [ ! -x "$venv/bin/aws" ]; then
    log "installing awscli 1.46.2 into $venv (benchmark only)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "awscli==1.46.2"
  fi
  export TRUSTROOT_BENCH_AWS="$venv/bin/aws"
}
need_awscli

log "cargo build --release -p trustroot -p trustroot-bench"
cargo build --release --locked -p trustroot -p trustroot-bench
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

log "trustroot-bench run (work directory: $work)"
"$target_dir/release/trustroot-bench" run \
  --work "$work" \
  --trustroot "$target_dir/release/trustroot" \
  --python "$TRUSTROOT_TEST_PYTHON" \
  --tufjs "$TRUSTROOT_TEST_TUFJS" \
  --tuftool "$TRUSTROOT_BENCH_TUFTOOL" \
  "$@"

log "trustroot-bench signers (a key file, SoftHSM2 tokens and AWS KMS through moto)"
"$target_dir/release/trustroot-bench" signers --trustroot "$target_dir/release/trustroot" --signatures 500 --refreshes 25

log "trustroot-bench store (publish to object storage on a moto server, beside aws s3 sync)"
"$target_dir/release/trustroot-bench" store --targets 10000,100000 --jobs 8,32,64 --mirror --aws "$TRUSTROOT_BENCH_AWS"

# The soak at benchmark length: `mirror serve` under keep-alive load for five minutes while
# a sync switches its state every two seconds (the test run's 60-second soak, longer);
# no request may fail, no walk may mix states, the server's memory must not grow.
log "soak: mirror serve under load for 5 minutes while syncs switch states"
TRUSTROOT_SOAK_SECONDS=300 cargo test --locked -p trustroot --test mirror_serve_during_sync \
  soak_serving_under_load_while_syncs_switch_states_never_fails_nor_grows -- --nocapture
