#!/usr/bin/env bash
# Compaction benchmark: 1,000 small appends to one dataset through `lakehouse serve`, an
# aggregate timed before and after POST /query/compact (median of 7 runs each), the
# compaction itself timed. Prints files and medians before/after and the speed-up, and
# writes the same to bench/out/compact.txt.
# Usage: bench/compact/run.sh [--appends N] [--rows N] [--runs N] [--seed N] [--keep]
# Env: LAKEHOUSE_BIN (default build/lakehouse).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${LAKEHOUSE_BIN:-$root/build/lakehouse}"
[ -x "$bin" ] || { echo "run.sh: no lakehouse binary at $bin (make build, or set LAKEHOUSE_BIN)" >&2; exit 1; }
/usr/bin/python3 -c 'import requests' 2>/dev/null ||
    { echo "run.sh: python3-requests is missing (scripts/setup.sh)" >&2; exit 1; }
exec /usr/bin/python3 "$root/bench/compact/bench_compact.py" --bin "$bin" \
    --out "$root/bench/out/compact.txt" "$@"
