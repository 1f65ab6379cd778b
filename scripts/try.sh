#!/usr/bin/env bash
# The README's first command: build trustroot, then run `trustroot quickstart`: the whole life
# of a TUF trust root, offline, in a directory it leaves for you to explore (keys, a 2-of-3
# ceremony from request files, a publish, a mirror served on 127.0.0.1, a client update, an
# online refresh, a root rotation the client follows). Then the same client on real data:
# Sigstore's production repository (a copy bundled in tests/fixtures), verified from its very
# first root, offline.
#
#   ./scripts/try.sh [DIR]     DIR: where the quickstart leaves its files (must be new or
#                              empty; default ./trustroot-quickstart, or -2, -3... if taken)
set -euo pipefail
here="$PWD"
cd "$(dirname "$0")/.."
clone="$PWD"

if [ $# -gt 0 ]; then
  case "$1" in /*) dir="$1" ;; *) dir="$here/$1" ;; esac
else
  dir="$clone/trustroot-quickstart"
  n=2
  while [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null || echo file)" ]; do
    dir="$clone/trustroot-quickstart-$n"
    n=$((n + 1))
  done
fi

printf '== building trustroot (cargo build -p trustroot; the first build takes a few minutes)\n'
cargo build --quiet --locked -p trustroot
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' 2>/dev/null \
  || echo "${CARGO_TARGET_DIR:-$clone/target}")"
bin_dir="$target_dir/debug"
bin="$bin_dir/trustroot"

printf '\n== trustroot quickstart %s\n\n' "$dir"
"$bin" quickstart "$dir"

# --- Real data: Sigstore's production repository, root 1 to the newest, and its
# --- trusted_root.json. The copy expired after 2026-08-28, so it is checked "as of"
# --- 2026-08-22 with --at.
printf '\n== The same client on real data: Sigstore'"'"'s production repository, offline\n'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf tests/fixtures/sigstore-repos.tar.xz -C "$work"
repo="$work/sigstore-prod/published"
mkdir -p "$work/metadata" "$work/downloads"
at=2026-08-22T00:00:00Z
run() { printf '$ trustroot %s\n' "${*:2}"; "$@" | sed 's/^/  /'; }
run "$bin" client --metadata-dir "$work/metadata" init "$repo/1.root.json"
run "$bin" client --at "$at" --metadata-dir "$work/metadata" --metadata-url "file://$repo/" \
  --target-dir "$work/downloads" --target-base-url "file://$repo/targets/" \
  --target-name trusted_root.json download
printf 'trusted_root.json verified: %s bytes, sha256 %s\n' \
  "$(wc -c < "$work/downloads/trusted_root.json")" \
  "$(sha256sum "$work/downloads/trusted_root.json" | cut -d' ' -f1)"

cat <<END

== Next
Put trustroot on your PATH, for the guides' commands:
  export PATH="$bin_dir:\$PATH"        # or: cargo install --locked --path cli
then, in $dir, follow
  docs/keyholder-guide.md, docs/operator-guide.md, docs/air-gapped-site.md
END
