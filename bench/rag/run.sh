#!/usr/bin/env bash
# RAG benchmark: a seeded 100K-row resume dataset indexed with the built-in lexical embedder,
# then RAG requests (POST /vectors/rag) answered by tests/fakes/fake_models.py with a fixed
# generation delay. Prints the median time per request split into embed / search / prompt /
# generate and our overhead outside the model (goal < 5% of the request), and writes the
# same to bench/out/rag.txt.
# Usage: bench/rag/run.sh [--rows N] [--queries N] [--delay-ms N] [--k N] [--seed N]
#                         [--quick] [--keep]
# Env: LAKEHOUSE_BIN (default build/lakehouse).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${LAKEHOUSE_BIN:-$root/build/lakehouse}"
[ -x "$bin" ] || { echo "run.sh: no lakehouse binary at $bin (make build, or set LAKEHOUSE_BIN)" >&2; exit 1; }
/usr/bin/python3 -c 'import requests' 2>/dev/null ||
    { echo "run.sh: python3-requests is missing (scripts/setup.sh)" >&2; exit 1; }
exec /usr/bin/python3 "$root/bench/rag/bench_rag.py" --bin "$bin" \
    --fake "$root/tests/fakes/fake_models.py" --out "$root/bench/out/rag.txt" "$@"
