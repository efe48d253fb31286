#!/usr/bin/env bash
# Vector search benchmark (issue 5): our exact search and HNSW against hnswlib and FAISS on the
# same seeded clustered unit vectors, in one run. Installs what it needs if missing, builds the
# project library (core + vector) with the project's own flags, compiles the drivers into
# bench/out/ann/, generates the data once (cached by seed and size), prints one table and
# writes it to bench/out/ann.txt (raw JSON lines: bench/out/ann/results.jsonl).
# Usage: bench/ann/run.sh [--quick] [--n N] [--queries N] [--dim N] [--seed N] [--reps N]
#        [--M N] [--efc "80 200"] [--efs 10,20,40,80,120,200] [--exact-queries N]
#        [--systems ours,hnswlib,faiss] [--faiss-efc "80 200"] [--isa avx2|scalar]
# Env: ANN_BUILD (build dir for the project library; default bench/out/ann/build).
set -euo pipefail
# The whole script is one block, parsed before it runs: editing the file during a run (or a
# second run) cannot change what a running instance executes.
{
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/bench/ann"
out="$root/bench/out/ann"
n=100000 queries=1000 dim=768 seed=42 reps=3 M=16 efcs="80 200" efs="10,20,40,80,120,200"
exact_queries=100 systems="ours,hnswlib,faiss" faiss_efcs="" isa=()

usage() { sed -n '/^# Usage:/,/^# Env:/s/^# //p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) n=20000; queries=200; reps=2; exact_queries=30; shift ;;
        --n) n="${2:?}"; shift 2 ;;
        --queries) queries="${2:?}"; shift 2 ;;
        --dim) dim="${2:?}"; shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        --reps) reps="${2:?}"; shift 2 ;;
        --M) M="${2:?}"; shift 2 ;;
        --efc) efcs="${2:?}"; shift 2 ;;
        --efs) efs="${2:?}"; shift 2 ;;
        --exact-queries) exact_queries="${2:?}"; shift 2 ;;
        --systems) systems="${2:?}"; shift 2 ;;
        --faiss-efc) faiss_efcs="${2:?}"; shift 2 ;;
        --isa) isa=(--isa "${2:?}"); shift 2 ;;  # force our kernels' instruction set
        -h|--help) usage ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
for v in n queries dim seed reps M exact_queries; do
    [[ "${!v}" =~ ^[0-9]+$ ]] ||
        { echo "run.sh: --${v//_/-} wants a non-negative integer" >&2; exit 2; }
done
[ "$n" -ge 100 ] ||
    { echo "run.sh: --n must be at least 100 (the ground truth is top-100)" >&2; exit 2; }
[ "$queries" -ge 1 ] && [ "$dim" -ge 1 ] && [ "$reps" -ge 1 ] && [ "$M" -ge 2 ] ||
    { echo "run.sh: --queries, --dim, --reps must be >= 1 and --M >= 2" >&2; exit 2; }
# FAISS's HNSW (Debian's build has no AVX: ~4x hnswlib's CPU time to build) runs at every
# --efc unless --faiss-efc trims it: at 100K, ~70 s at ef_construction 80 and ~160 s at 200.
[ -n "$faiss_efcs" ] || faiss_efcs="$efcs"
for e in $efcs $faiss_efcs; do
    [[ "$e" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --efc wants positive integers" >&2; exit 2; }
done
[[ "$efs" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
    { echo "run.sh: --efs wants e.g. 10,20,40" >&2; exit 2; }
for s in ${systems//,/ }; do
    [[ "$s" == ours || "$s" == hnswlib || "$s" == faiss ]] ||
        { echo "run.sh: unknown system '$s' (ours, hnswlib, faiss)" >&2; exit 2; }
done
has() { [[ ",$systems," == *",$1,"* ]]; }
log() { printf 'ann: %s\n' "$*" >&2; }

# ---- packages: Debian's hnswlib headers, FAISS for Python, OpenBLAS, a C++ compiler ----------
need=()
for p in libhnswlib-dev python3-faiss libopenblas0-pthread g++; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
blas="$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null |
        sed -n 's/^Value: //p')"
[[ "$blas" == *openblas* ]] ||
    log "warning: libblas.so.3 is '$blas', not OpenBLAS: FAISS's batch exact search will be slow"

# ---- the project library, with the project's own flags (CMake's RelWithDebInfo default) -----
build="${ANN_BUILD:-$out/build}"
mkdir -p "$out/data" "$build"
if [ ! -f "$build/CMakeCache.txt" ]; then
    log "configuring the project library (core + vector) in $build"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLH_ONLY_MODULES="core;vector" \
        > "$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
fi
flock "$build/ann-build.lock" cmake --build "$build" --target lakehouse_lib -j "$(nproc)" \
    > "$out/build.log" 2>&1 ||
    { tail -40 "$out/build.log" >&2; log "building the project library failed"; exit 1; }
lib="$build/liblakehouse_lib.a"
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")"

# ---- the drivers (rebuilt when a source or the library is newer) ----------------------------
# Each is compiled to a temp name and renamed, so two runs at once never see half a binary.
stale() { local t="$1" d; shift; [ -f "$t" ] || return 0
          for d in "$@"; do [ "$d" -nt "$t" ] && return 0; done; return 1; }
cflags=(-std=c17 -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
        -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root/src")
libs=("$lib" $(pkg-config --libs jansson libcrypto) -lpthread -lm)
if stale "$out/gen" "$src/gen.c" "$src/common.h" "$lib"; then
    cc "${cflags[@]}" -o "$out/gen.$$" "$src/gen.c" "${libs[@]}"
    mv -f "$out/gen.$$" "$out/gen"
fi
if has ours && stale "$out/ours" "$src/ours.c" "$src/bw.c" "$src/bw.h" "$src/common.h" "$lib"; then
    # The yardstick is the fastest plain read this CPU can do; ours.c keeps the project's -O2.
    cc -std=c17 -O3 -march=native -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
        -c -o "$out/bw.$$.o" "$src/bw.c"
    cc "${cflags[@]}" -o "$out/ours.$$" "$src/ours.c" "$out/bw.$$.o" "${libs[@]}"
    rm -f "$out/bw.$$.o"
    mv -f "$out/ours.$$" "$out/ours"
fi
if has hnswlib && stale "$out/hnswlib_driver" "$src/hnswlib_driver.cpp" "$src/common.h"; then
    g++ -std=c++17 -O3 -march=native -Wall -Wextra -pthread -o "$out/hnswlib_driver.$$" \
        "$src/hnswlib_driver.cpp"
    mv -f "$out/hnswlib_driver.$$" "$out/hnswlib_driver"
fi

# ---- the data, generated once per seed and size ---------------------------------------------
# "clu1": the generator's version; bump it in gen.c's model and here together.
data="$out/data/clu1-s$seed-d$dim-n$n-q$queries"
if [ -f "$data.gt.ivecs" ]; then
    log "reusing $data.*"
else
    log "generating $data.* (ground truth with lh_exact_search, 2 threads)"
    "$out/gen" --out "$data" --n "$n" --queries "$queries" --dim "$dim" --seed "$seed" --threads 2
fi

# ---- the runs -------------------------------------------------------------------------------
# This run's results go to a file of its own (another run may be under way), copied to
# results.jsonl at the end.
results="$(mktemp "$out/results.XXXXXX")"
trap 'rm -f "$results"' EXIT
failed=0
load_before="$(cut -d' ' -f1 /proc/loadavg)"
t_start=$SECONDS
step() {
    local name="$1" t0=$SECONDS; shift
    log "$name ..."
    if "$@" >> "$results"; then
        log "$name: $((SECONDS - t0)) s"
    else
        log "$name FAILED"; failed=1
    fi
}
if has ours; then
    step "ours exact" "$out/ours" exact --data "$data" --exact-queries "$exact_queries" \
        --threads 1,2 "${isa[@]}"
fi
if has faiss; then
    for t in 1 2; do
        step "faiss exact, $t thread(s)" /usr/bin/python3 "$src/faiss_bench.py" exact \
            --data "$data" --threads "$t" --exact-queries "$exact_queries"
    done
fi
for efc in $efcs; do
    common=(--data "$data" --M "$M" --efc "$efc" --efs "$efs" --reps "$reps")
    if has ours; then
        step "ours hnsw efc=$efc" "$out/ours" hnsw "${common[@]}" --seed "$seed" \
            --build-threads 1,2 "${isa[@]}"
    fi
    if has hnswlib; then
        step "hnswlib efc=$efc" "$out/hnswlib_driver" "${common[@]}" --seed "$seed" \
            --build-threads 1,2
    fi
    if has faiss && [[ " $faiss_efcs " == *" $efc "* ]]; then
        step "faiss hnsw efc=$efc" /usr/bin/python3 "$src/faiss_bench.py" hnsw "${common[@]}" \
            --build-threads 2
    fi
done
log "all runs: $((SECONDS - t_start)) s"

cp "$results" "$out/results.jsonl"
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
/usr/bin/python3 "$src/report.py" "$results" "$root/bench/out/ann.txt" \
    n="$n" queries="$queries" dim="$dim" seed="$seed" M="$M" systems="$systems" \
    cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)" cores="$(nproc)" \
    l3_bytes="$(lscpu -B 2>/dev/null | sed -n 's/^L3 cache: *\([0-9]*\).*/\1/p' | head -1)" \
    load_before="$load_before" load_after="$(cut -d' ' -f1 /proc/loadavg)" \
    build_type="$build_type" hnswlib="$(ver libhnswlib-dev)" faiss="$(ver python3-faiss)" ||
    failed=1
exit "$failed"
}
