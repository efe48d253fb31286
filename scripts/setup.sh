#!/usr/bin/env bash
# Installs everything lakehouse needs to build, run and test on Debian bookworm:
# the Debian -dev packages, and DuckDB 1.4.4 LTS (libduckdb.so + duckdb.h from npm,
# checked against pinned sha256 sums) into third_party/duckdb/.
# With `--ui-tests` it also installs what the browser tests need: Debian's chromium and the
# npm packages pinned in tests/ui/package-lock.json (playwright-core).
# Idempotent: a second run with everything in place returns in well under a second.
set -euo pipefail

top="$(cd "$(dirname "$0")/.." && pwd)"
duck_dir="${DUCKDB_HOME:-$top/third_party/duckdb}"

LIB_PKG='@duckdb/node-bindings-linux-x64@1.4.4-r.4'
LIB_SHA='1ef33048e12235115ac0d277a0aaccbb560e33248144f488b5ac005cd9ba81b5'
HDR_PKG='duckdb@1.4.4'
HDR_PATH='src/duckdb/src/include/duckdb.h'
HDR_SHA='cbe6a827284375c5a646b8f27dbd3a00808ce8738b5bbb49c190cb1e08540281'

# Build, run and test dependencies (tesseract-ocr-eng is the OCR language data).
DEB_PKGS=(build-essential cmake pkg-config git ca-certificates curl
          libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev
          libcriterion-dev python3 python3-pytest python3-requests
          libmupdf-dev libtesseract-dev libleptonica-dev tesseract-ocr-eng libarchive-dev
          libopenjp2-7-dev libjbig2dec0-dev libjpeg-dev libgumbo-dev libmujs-dev libfreetype-dev
          libharfbuzz-dev libbrotli-dev libpng-dev zlib1g-dev    # this line: MuPDF's static link
          time)                                                  # /usr/bin/time for bench/

log() { printf 'setup: %s\n' "$*" >&2; }

missing_debs() {
    local p out=()
    for p in "${DEB_PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
    done
    printf '%s\n' "${out[@]}"
}

install_debs() {
    # Some machines carry a Node.js that bundles npm and conflicts with Debian's npm package:
    # ask for Debian's only when there is no npm at all.
    command -v npm >/dev/null 2>&1 || DEB_PKGS+=(nodejs npm)
    mapfile -t need < <(missing_debs | sed '/^$/d')
    [ "${#need[@]}" -eq 0 ] && return 0
    log "installing Debian packages: ${need[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

install_duckdb() {
    if sha_ok "$duck_dir/lib/libduckdb.so" "$LIB_SHA" && sha_ok "$duck_dir/include/duckdb.h" "$HDR_SHA"; then
        return 0
    fi
    if [ -n "${DUCKDB_HOME:-}" ] && [ -f "$DUCKDB_HOME/lib/libduckdb.so" ] && [ -f "$DUCKDB_HOME/include/duckdb.h" ]; then
        log "using DUCKDB_HOME=$DUCKDB_HOME as given (sums not pinned there)"
        return 0
    fi
    log "fetching DuckDB 1.4.4 from npm into $duck_dir"
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    (cd "$tmp" && npm pack --silent "$LIB_PKG" >/dev/null && npm pack --silent "$HDR_PKG" >/dev/null)
    mkdir -p "$tmp/lib" "$tmp/hdr"
    tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/lib"
    tar -xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp/hdr" "package/$HDR_PATH"
    local so
    so="$(find "$tmp/lib" -name libduckdb.so | head -1)"
    [ -n "$so" ] || { log "libduckdb.so not found in $LIB_PKG"; exit 1; }
    sha_ok "$so" "$LIB_SHA" || { log "libduckdb.so sha256 mismatch: $(sha256sum "$so")"; exit 1; }
    sha_ok "$tmp/hdr/package/$HDR_PATH" "$HDR_SHA" || { log "duckdb.h sha256 mismatch"; exit 1; }
    mkdir -p "$duck_dir/lib" "$duck_dir/include"
    install -m 0644 "$so" "$duck_dir/lib/libduckdb.so.tmp" && mv "$duck_dir/lib/libduckdb.so.tmp" "$duck_dir/lib/libduckdb.so"
    install -m 0644 "$tmp/hdr/package/$HDR_PATH" "$duck_dir/include/duckdb.h"
    log "DuckDB installed in $duck_dir"
}

# The browser tests: chromium from Debian, playwright-core exactly as the lockfile pins it
# (npm ci checks its integrity hash). Reinstalled only when the lockfile changed.
install_ui_tests() {
    DEB_PKGS+=(chromium fonts-dejavu-core)
    install_debs
    local ui="$top/tests/ui" stamp="$top/tests/ui/node_modules/.lock-sha256"
    local want
    want="$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$ui/node_modules/playwright-core" ]; then
        return 0
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
    if [ "$major" -lt 18 ]; then
        log "the UI tests need Node.js 18 or newer (playwright-core); found $(node --version 2>/dev/null || echo none)"
        exit 1
    fi
    log "installing the UI test packages (npm ci in tests/ui)"
    (cd "$ui" && npm ci --silent --no-audit --no-fund >/dev/null)
    echo "$want" > "$stamp"
}

install_debs
install_duckdb
if [ "${1:-}" = "--ui-tests" ]; then
    install_ui_tests
fi
