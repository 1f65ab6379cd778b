#!/usr/bin/env bash
# The benchmark (docs/benchmarks.md): installs the peers that are missing (python-tuf,
# tuf-js, tuftool 0.17.0, curl, GNU time, nginx and wrk), builds trustroot and trustroot-bench in release
# mode, and runs every measurement once. Not part of the test run: it takes a while.
#
# usage: scripts/bench.sh [WORK_DIR] [trustroot-bench run options, e.g. --quick]
# The table goes to standard output and WORK_DIR/results.md (default WORK_DIR: bench-work).
# `--only A,B` runs some sections: the parts of `trustroot-bench run` (small, large, bins,
# chain, sign, resolve, scale, serve) and the ones this script adds (ceremony: the
# `ceremony start` to `publish` sweep and its plot, docs/ceremony-scale.svg; signers; store;
# soak).
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh

work="${1:-bench-work}"
[ $# -gt 0 ] && shift

# Which sections run: all, or those --only names.
only=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --only) only="${args[$((i + 1))]:-}" ;;
    --only=*) only="${args[$i]#--only=}" ;;
  esac
done
wants() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }
wants_run() {
  local part
  for part in small large bins chain sign resolve scale serve; do
    wants "$part" && return 0
  done
  return 1
}

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

if wants_run; then
  log "trustroot-bench run (work directory: $work)"
  "$target_dir/release/trustroot-bench" run \
    --work "$work" \
    --trustroot "$target_dir/release/trustroot" \
    --python "$TRUSTROOT_TEST_PYTHON" \
    --tufjs "$TRUSTROOT_TEST_TUFJS" \
    --tuftool "$TRUSTROOT_BENCH_TUFTOOL" \
    --scale-svg docs/scale-sync.svg \
    "$@"
fi

# The ceremony path at scale: `ceremony start` to `publish` of 1,000 to 100,000 new targets,
# beside python-tuf signing the same role, and the plot of time and memory against size.
if wants ceremony; then
  log "trustroot-bench ceremony-scale (1,000, 10,000 and 100,000 targets; plot: docs/ceremony-scale.svg)"
  "$target_dir/release/trustroot-bench" ceremony-scale \
    --trustroot "$target_dir/release/trustroot" \
    --python "$TRUSTROOT_TEST_PYTHON" \
    --sizes 1000,10000,100000 --bins 256 \
    --svg docs/ceremony-scale.svg --work "$work/ceremony-scale"
fi

if wants signers; then
  log "trustroot-bench signers (a key file, SoftHSM2 tokens and AWS KMS through moto)"
  "$target_dir/release/trustroot-bench" signers --trustroot "$target_dir/release/trustroot" --signatures 500 --refreshes 25
fi

if wants store; then
  log "trustroot-bench store (publish to object storage on a moto server, beside aws s3 sync)"
  "$target_dir/release/trustroot-bench" store --targets 10000,100000 --jobs 8,32,64 --mirror --aws "$TRUSTROOT_BENCH_AWS"
fi

# The soak at benchmark length: `mirror serve` under keep-alive load for five minutes while
# a sync publishes new metadata every two seconds (in place, and every fourth time with a
# new root, switching states: the test run's 60-second soak, longer); no request may fail,
# no walk may mix versions, the server's memory must not grow.
if wants soak; then
  log "soak: mirror serve under load for 5 minutes while syncs update and switch states"
  TRUSTROOT_SOAK_SECONDS=300 cargo test --locked -p trustroot --test mirror_serve_during_sync \
    soak_serving_under_load_while_syncs_switch_states_never_fails_nor_grows -- --nocapture
fi
