#!/usr/bin/env bash
# Builds bench/sql/bench_sql.c against DuckDB and libcurl and runs it: SQL through
# `lakehouse serve` over HTTP against DuckDB in-process on the same Parquet file.
# Usage: bench/sql/run.sh [--rows N] [--runs N] [--keep]
# Env: LAKEHOUSE_BIN (default build/lakehouse), DUCKDB_HOME (default third_party/duckdb).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
duck="${DUCKDB_HOME:-$root/third_party/duckdb}"
bin="${LAKEHOUSE_BIN:-$root/build/lakehouse}"
out_dir="$root/bench/out"
mkdir -p "$out_dir"
[ -x "$bin" ] || { echo "run.sh: no lakehouse binary at $bin (make build, or set LAKEHOUSE_BIN)" >&2; exit 1; }
[ -f "$duck/include/duckdb.h" ] || { echo "run.sh: no duckdb.h under $duck (scripts/setup.sh)" >&2; exit 1; }
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$out_dir/bench_sql" "$root/bench/sql/bench_sql.c" \
   -I"$duck/include" -L"$duck/lib" -Wl,-rpath,"$duck/lib" -lduckdb \
   $(pkg-config --cflags --libs libcurl)
exec "$out_dir/bench_sql" --bin "$bin" --out "$out_dir/sql.txt" "$@"
