#!/usr/bin/env bash
# Fuzzes trustroot: every target of fuzz/ (or the TARGETs named) for SECONDS each (default
# 600), one target at a time with one job, growing fuzz/corpus/<target>/ and minimising
# it afterwards (cargo fuzz cmin). Crashes land in fuzz/artifacts/<target>/; copy the ones
# to keep into fuzz/artifacts-kept/<target>/, where the replay tests pick them up.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   fuzz (needs the nightly toolchain)
#   scripts/fuzz.sh --seed [TARGET...]      merge fresh seeds into the corpus (docs/fuzzing.md)
#   scripts/fuzz.sh --list                  the targets
#
# scripts/test.sh does not fuzz; it replays the saved corpus and kept crashes as tests.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/deps.sh

# Release build with debug assertions and overflow checks (cargo-fuzz's default), without
# AddressSanitizer: our code forbids `unsafe`, and on a small machine the sanitizer would
# halve the executions per second. Pass FUZZ_SANITIZER=address to use it.
sanitizer="${FUZZ_SANITIZER:-none}"
fuzz=(cargo +nightly fuzz)
all_targets() { ls fuzz/fuzz_targets | sed 's/\.rs$//'; }

need_cargo_fuzz() {
  if ! rustup toolchain list | grep -q '^nightly'; then
    log "installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
}

# Seeds: the fixed repository, generated keys and bundles, the Sigstore fixture
# repositories (tests/fuzz-targets/src/bin/fuzz-seeds.rs), and a signing request, a
# signature file and a trustroot.toml made by the trustroot binary in a scratch ceremony.
make_seeds() {
  local out="$1" work
  work="$(mktemp -d)"
  tar -xJf tests/fixtures/sigstore-repos.tar.xz -C "$work"
  cargo run --quiet --locked -p trustroot-fuzz-targets --bin fuzz-seeds -- "$out" "$work"
  cargo build --quiet --locked -p trustroot
  local tr
  tr="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/trustroot"
  (
    cd "$work"
    "$tr" init repo >/dev/null
    mkdir -p keys
    for name in alice bob; do
      "$tr" key generate --type ed25519 --out "keys/$name.pem" >/dev/null
      for role in root targets; do
        (cd repo && "$tr" key add "$name" --role "$role" --holder "@$name" "../keys/$name.pem.pub" >/dev/null)
      done
    done
    "$tr" key generate --type ecdsa-p256 --out keys/online.pem >/dev/null
    (cd repo && "$tr" key add online --role online ../keys/online.pem.pub >/dev/null)
    echo '{"mediaType": "test"}' > repo/targets/trusted_root.json
    (cd repo && "$tr" ceremony start --at 2030-01-01T00:00:00Z >/dev/null)
    (cd repo && "$tr" ceremony request --out ../request.json --at 2030-01-01T00:00:00Z >/dev/null)
    mkdir -p airgap && cp request.json airgap/ && cp keys/alice.pem airgap/key.pem
    (cd airgap && "$tr" ceremony sign --request request.json --key key.pem --yes >/dev/null)
  )
  mkdir -p "$out/signing_request" "$out/signature_file" "$out/policy"
  { printf '\0'; cat "$work/request.json"; } > "$out/signing_request/request"
  { printf '\1'; cat "$work/request.json"; } > "$out/signing_request/request-fixed"
  for sig in "$work"/airgap/*.json; do
    [ "$(basename "$sig")" = request.json ] || cp "$sig" "$out/signature_file/"
  done
  cp "$work/repo/trustroot.toml" "$out/policy/signing-repo.toml"
  cp repo-template/trustroot.toml "$out/policy/template.toml"
  rm -rf "$work"
}

case "${1:-}" in
  --list)
    all_targets
    exit 0
    ;;
  --seed)
    shift
    need_cargo_fuzz
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(all_targets)
    seeds="$(mktemp -d)"
    make_seeds "$seeds"
    for t in "${targets[@]}"; do
      [ -d "$seeds/$t" ] || continue
      mkdir -p "fuzz/corpus/$t"
      log "merging $(ls "$seeds/$t" | wc -l) seeds into fuzz/corpus/$t"
      "${fuzz[@]}" run -s "$sanitizer" "$t" "fuzz/corpus/$t" "$seeds/$t" -- -merge=1 -timeout=10
    done
    rm -rf "$seeds"
    exit 0
    ;;
esac

seconds="${1:-600}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(all_targets)
need_cargo_fuzz

crashed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" fuzz/target/logs
  log "fuzzing $t for ${seconds}s (log: fuzz/target/logs/$t.log)"
  start=$(date +%s)
  if "${fuzz[@]}" run -s "$sanitizer" "$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"fuzz/target/logs/$t.log" 2>&1; then
    status=ok
  else
    status=CRASH
    crashed+=("$t")
  fi
  tail -n 12 "fuzz/target/logs/$t.log" | grep -E 'stat::number_of_executed_units|cov:|Done|SUMMARY|panicked' | tail -n 3 || true
  # Minimised on edges alone (-use_counters=0): hit counts would keep several times the
  # files, and the corpus is committed.
  log "minimising fuzz/corpus/$t"
  "${fuzz[@]}" cmin -s "$sanitizer" "$t" "fuzz/corpus/$t" -- -timeout=10 -use_counters=0 >>"fuzz/target/logs/$t.log" 2>&1 || true
  echo "$t: $status after $(( $(date +%s) - start ))s, $(ls "fuzz/corpus/$t" | wc -l) corpus files"
done

if [ ${#crashed[@]} -gt 0 ]; then
  log "crashes in: ${crashed[*]} (inputs in fuzz/artifacts/<target>/; keep them in fuzz/artifacts-kept/<target>/)"
  exit 1
fi
