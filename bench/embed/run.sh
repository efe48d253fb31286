#!/usr/bin/env bash
# Builds bench/embed/lexical_bench.c against the project's static library and runs it: the
# built-in lexical embedder's chunks/s on one core against the 20K chunks/s goal.
# Usage: bench/embed/run.sh [--chunks N] [--dims D] [--bytes B] [--runs R]
# Env: LH_BUILD (a configured build directory, default build; it must have built
# liblakehouse_lib.a with the model module).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${LH_BUILD:-$root/build}"
out_dir="$root/bench/out"
mkdir -p "$out_dir"
lib="$build/liblakehouse_lib.a"
[ -f "$lib" ] || { echo "run.sh: no $lib (make build, or set LH_BUILD)" >&2; exit 1; }
cc -std=c17 -O2 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
   -I"$root/src" $(pkg-config --cflags jansson) -o "$out_dir/lexical_bench" \
   "$root/bench/embed/lexical_bench.c" "$lib" \
   $(pkg-config --libs jansson libcurl libcrypto) -lm -lpthread
# One core: the goal is per core, and the machine is shared.
taskset -c 0 "$out_dir/lexical_bench" "$@" | tee "$out_dir/embed.txt"
