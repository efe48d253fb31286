#!/usr/bin/env bash
# Hot-cache benchmark: one 1M-row dataset through `lakehouse serve`; the same aggregate
# timed cold (read from Parquet), then pinned (POST /query/cache/pin: an in-memory table),
# then cold again after evicting, all in one run on the same data. Prints medians and the
# speed-up (goal: pinned >= 5x faster than cold) and writes them to bench/out/cache.txt.
# Usage: bench/cache/run.sh [--rows N] [--runs N] [--seed N] [--keep]
# Env: LAKEHOUSE_BIN (default build/lakehouse).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${LAKEHOUSE_BIN:-$root/build/lakehouse}"
[ -x "$bin" ] || { echo "run.sh: no lakehouse binary at $bin (make build, or set LAKEHOUSE_BIN)" >&2; exit 1; }
/usr/bin/python3 -c 'import requests' 2>/dev/null ||
    { echo "run.sh: python3-requests is missing (scripts/setup.sh)" >&2; exit 1; }
exec /usr/bin/python3 "$root/bench/cache/bench_cache.py" --bin "$bin" \
    --out "$root/bench/out/cache.txt" "$@"
