# Installing the pinned peers trustroot is tested and benchmarked against. Sourced by
# scripts/test.sh and scripts/bench.sh (from the repository root); each step installs only
# what is missing, from the ordinary package registries.

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages for the commands named: `need_debian [--no-install-recommends]
# COMMAND:PACKAGE ...` (the option keeps big packages such as chromium lean).
need_debian() {
  local missing=() pair options=()
  if [ "${1:-}" = --no-install-recommends ]; then
    options+=(--no-install-recommends)
    shift
  fi
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${options[@]}" "${missing[@]}"
  fi
}

# Debian packages for the files named: `need_debian_files PATH:PACKAGE ...` (libraries,
# such as PKCS#11 modules, that no command names).
need_debian_files() {
  local missing=() pair
  for pair in "$@"; do
    [ -e "${pair%%:*}" ] || missing+=("${pair#*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# PyPI: python-tuf, moto (the AWS KMS and S3 push tests), gcp-storage-emulator (the
# GCS push tests) and sigstore-python (the keyless cross-check), pinned with their
# dependencies by tests/interop/requirements.txt, in a
# venv under ~/.cache/trustroot. Sets TRUSTROOT_TEST_PYTHON; the tests run
# `$TRUSTROOT_TEST_PYTHON -m moto.server` and `-m gcp_storage_emulator`.
need_python_tuf() {
  local venv="${TRUSTROOT_TEST_VENV:-$HOME/.cache/trustroot/venv-$(sha256sum tests/interop/requirements.txt | cut -c1-12)}"
  if ! "$venv/bin/python" -c 'import tuf.ngclient, moto.server, boto3, gcp_storage_emulator, sigstore.verify' 2>/dev/null; then
    log "installing python-tuf, moto, gcp-storage-emulator and sigstore-python into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
  fi
  export TRUSTROOT_TEST_PYTHON="$venv/bin/python"
}

# npm: tuf-js, pinned by tests/interop/tuf-js/package-lock.json (integrity hashes, no
# registry URLs: .npmrc). npm ci again whenever the lockfile changed since the last one.
# Sets TRUSTROOT_TEST_TUFJS.
need_tuf_js() {
  local tufjs=tests/interop/tuf-js
  if ! cmp -s "$tufjs/package-lock.json" "$tufjs/node_modules/.package-lock.json.installed" 2>/dev/null; then
    log "installing tuf-js into $tufjs/node_modules"
    (cd "$tufjs" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$tufjs/package-lock.json" "$tufjs/node_modules/.package-lock.json.installed"
  fi
  export TRUSTROOT_TEST_TUFJS="$PWD/$tufjs/client.mjs"
}

# npm: Azurite 3.35.0, Microsoft's Azure Storage emulator (the last release that runs on
# Node 20: 3.36 needs Node 21), pinned by tests/interop/azurite/package-lock.json. The Azure
# push tests start its azurite-blob with --disableTelemetry on 127.0.0.1. Sets
# TRUSTROOT_TEST_AZURITE.
need_azurite() {
  local dir=tests/interop/azurite
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
    log "installing azurite into $dir/node_modules"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
  fi
  export TRUSTROOT_TEST_AZURITE="$PWD/$dir/node_modules/.bin/azurite-blob"
}

# npm: puppeteer-core and axe-core, pinned in tests/interop/status-page, which open the
# status page in the Debian chromium (never a downloaded browser) and check it. Sets
# TRUSTROOT_TEST_STATUS_PAGE and TRUSTROOT_TEST_CHROMIUM.
need_status_page() {
  local dir=tests/interop/status-page
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
    log "installing puppeteer-core and axe-core into $dir/node_modules"
    (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed"
  fi
  export TRUSTROOT_TEST_STATUS_PAGE="$PWD/$dir/check.mjs"
  TRUSTROOT_TEST_CHROMIUM="$(command -v chromium)"
  export TRUSTROOT_TEST_CHROMIUM
}

# crates: tuftool 0.17.0 (tough's repository tool), installed into a cache folder with its
# own lockfile. Its first build compiles the AWS SDK and aws-lc: many minutes on 2 cores.
# Sets TRUSTROOT_BENCH_TUFTOOL.
need_tuftool() {
  local root="$HOME/.cache/trustroot/tuftool"
  if ! "$root/bin/tuftool" --version 2>/dev/null | grep -q '0\.17\.0'; then
    log "installing tuftool 0.17.0 into $root"
    cargo install --locked --version 0.17.0 tuftool --root "$root"
  fi
  export TRUSTROOT_BENCH_TUFTOOL="$root/bin/tuftool"
}

# Debian `prometheus`: promtool and the Prometheus server the metrics tests run
# themselves, on 127.0.0.1 with their own config. Installed without recommends (no
# node_exporter), and never left running as a service: while apt installs it a
# policy-rc.d (when the machine has none) refuses every service start, and afterwards the
# unit is disabled and stopped, in case it started anyway (an existing policy-rc.d that
# allows starts, or systemd without invoke-rc.d).
need_prometheus() {
  command -v promtool >/dev/null && command -v prometheus >/dev/null && return 0
  log "installing Debian package: prometheus (--no-install-recommends, service not started)"
  local policy=/usr/sbin/policy-rc.d ours=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages.\nexit 101\n' \
      | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    ours=1
  fi
  local status=0
  as_root apt-get update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus ||
    status=$?
  [ -n "$ours" ] && as_root rm -f "$policy"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  return "$status"
}
