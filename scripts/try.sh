#!/usr/bin/env bash
# Try trustroot on real data, offline: verify Sigstore's production TUF repository (a copy
# bundled in tests/fixtures) from its very first root, as a client would, and fetch its
# trusted_root.json. The copy expired after 2026-08-28, so the check runs "as of"
# 2026-08-22 with --at.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p trustroot
bin=target/release/trustroot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf tests/fixtures/sigstore-repos.tar.xz -C "$work"
repo="$work/sigstore-prod/published"
mkdir -p "$work/metadata" "$work/downloads"
at=2026-08-22T00:00:00Z

run() { printf '\n$ %s\n' "$*"; "$@"; }
run "$bin" client --metadata-dir "$work/metadata" init "$repo/1.root.json"
run "$bin" client --at "$at" --metadata-dir "$work/metadata" --metadata-url "file://$repo/" \
  --target-dir "$work/downloads" --target-base-url "file://$repo/targets/" \
  --target-name trusted_root.json download
run "$bin" inspect --at "$at" "$work/metadata/root.json"
printf '\ntrusted_root.json verified: %s bytes, sha256 %s\n' \
  "$(wc -c < "$work/downloads/trusted_root.json")" \
  "$(sha256sum "$work/downloads/trusted_root.json" | cut -d' ' -f1)"
