#!/usr/bin/env bash
# Exact vector search against a memory-bandwidth baseline (bench/exact/exact_bench.c): builds
# the driver with gcc -O2 from the sources it needs (core + the vector kernels and exact
# search, so a half-built module elsewhere cannot break it; no special -m flags, the kernels
# pick AVX-512 / AVX2 / scalar at run time) and runs it. Writes bench/out/exact.txt.
# Usage: bench/exact/run.sh [--rows N] [--dim D] [--runs R] [--k K]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out_dir="$root/bench/out"
mkdir -p "$out_dir"
gcc -std=c17 -O2 -Wall -Wextra -Werror -Wno-missing-field-initializers \
    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DLH_VERSION='"bench"' -I"$root/src" \
    -o "$out_dir/exact_bench" "$root/bench/exact/exact_bench.c" \
    "$root"/src/vector/kernels*.c "$root/src/vector/exact.c" "$root"/src/core/*.c \
    $(pkg-config --cflags --libs jansson libcrypto) -lpthread -lm
exec "$out_dir/exact_bench" --out "$out_dir/exact.txt" "$@"
