#!/usr/bin/env bash
# Ingest benchmark: `lakehouse ingest` of a seeded CSV and NDJSON file against DuckDB's own
# COPY (FROM read_csv|read_json(FILE)) TO parquet (zstd) of the same file, alternating, each
# under /usr/bin/time -v (wall time, peak RSS). Prints median MB/s, rows/s, the ratio and
# peak RSS per format, and writes the same table to bench/out/ingest.txt.
# Usage: bench/ingest/run.sh [--mb N] [--runs N] [--seed N] [--formats "csv ndjson"] [--keep]
# Env: LAKEHOUSE_BIN (default build/lakehouse), DUCKDB_HOME (default third_party/duckdb).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
duck="${DUCKDB_HOME:-$root/third_party/duckdb}"
bin="${LAKEHOUSE_BIN:-$root/build/lakehouse}"
out_dir="$root/bench/out"
mb=1000 runs=3 seed=42 formats="csv ndjson" keep=0

usage() { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --mb) mb="${2:?}"; shift 2 ;;
        --runs) runs="${2:?}"; shift 2 ;;
        --seed) seed="${2:?}"; shift 2 ;;
        --formats) formats="${2:?}"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ "$mb" =~ ^[0-9]+$ && "$mb" -gt 0 ]] || { echo "run.sh: --mb wants a positive integer" >&2; exit 2; }
[[ "$runs" =~ ^[0-9]+$ && "$runs" -gt 0 ]] || { echo "run.sh: --runs wants a positive integer" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "run.sh: --seed wants a non-negative integer" >&2; exit 2; }
for f in $formats; do
    [[ "$f" == csv || "$f" == ndjson ]] || { echo "run.sh: unknown format '$f' (csv, ndjson)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "run.sh: no lakehouse binary at $bin (make build, or set LAKEHOUSE_BIN)" >&2; exit 1; }
[ -f "$duck/include/duckdb.h" ] || { echo "run.sh: no duckdb.h under $duck (scripts/setup.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

mkdir -p "$out_dir/ingest-data"
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$out_dir/gen_ingest" "$root/bench/ingest/gen_ingest.c"
cc -std=c17 -O2 -Wall -Wextra -Werror -o "$out_dir/duck_copy" "$root/bench/ingest/duck_copy.c" \
   -I"$duck/include" -L"$duck/lib" -Wl,-rpath,"$duck/lib" -lduckdb

# The work dir sits next to the data so the ingest's hard link into scratch is possible
# (one filesystem), as for a file uploaded into the lake's own disk.
work="$(mktemp -d "$out_dir/ingest-work.XXXXXX")"
cleanup() { [ "$keep" = 1 ] && echo "kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

# Generates (or reuses) the input of one format; sets $file and $rows.
make_input() {
    local fmt="$1"
    file="$out_dir/ingest-data/people-s$seed-${mb}mb.$fmt"
    if [ -f "$file" ] && [ -f "$file.rows" ]; then
        rows="$(cat "$file.rows")"
        echo "reusing $file ($rows rows)" >&2
    else
        echo "generating $file ..." >&2
        rows="$("$out_dir/gen_ingest" "$fmt" "$mb" "$seed" "$file")"
        echo "$rows" > "$file.rows"
    fi
}

now_ns() { date +%s%N; }
peak_kb() { sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$1"; }
cpu_secs() { awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 }
    END { printf "%.2f", s }' "$1"; }

# Runs one timed command: "$@" with stdout to $work/stdout, stderr to $work/stderr.
# Sets $secs (wall), $cpu (user + system), $rss_kb and returns the command's status.
timed() {
    local t0 t1 rc=0
    t0="$(now_ns)"
    /usr/bin/time -v -o "$work/time.txt" "$@" > "$work/stdout" 2> "$work/stderr" || rc=$?
    t1="$(now_ns)"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
    rss_kb="$(peak_kb "$work/time.txt")"
    cpu="$(cpu_secs "$work/time.txt")"
    return $rc
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

json_field() { # the integer or boolean value of a top-level key of $work/stdout
    sed -n "s/^  \"$1\": \([0-9a-z]*\),\{0,1\}$/\1/p" "$work/stdout" | head -1
}

table="$work/table.txt"
{
    printf '# bench/ingest: seed %s, %s MB per file, %s runs, %s, %s, %s cores, load %s at start\n' \
        "$seed" "$mb" "$runs" "$(basename "$bin")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(nproc)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-7s %7s %9s | %8s %10s %7s %7s | %8s %10s %7s %7s | %5s %5s\n' format MB rows \
        "lh MB/s" "lh rows/s" "lh CPU" "lh RSS" "dk MB/s" "dk rows/s" "dk CPU" "dk RSS" \
        ratio "cpu r"
} > "$table"

status=0
for fmt in $formats; do
    make_input "$fmt"
    bytes="$(stat -c %s "$file")"
    size_mb="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
    duck_reader=csv; [ "$fmt" = ndjson ] && duck_reader=json
    cat "$file" > /dev/null # both sides start from a warm page cache
    lh_t=() lh_rss=() lh_cpu=() dk_t=() dk_rss=() dk_cpu=() lh_error=""
    for ((i = 1; i <= runs; i++)); do
        # (1) lakehouse, a fresh data dir each time: the same content twice is a duplicate.
        if [ -z "$lh_error" ]; then
            data="$work/lake-$fmt-$i"
            if timed "$bin" ingest "$file" --name "people_$fmt" --data "$data" --json; then
                got="$(json_field rows)" dup="$(json_field duplicate)"
                if [ "$dup" = true ] || [ "$got" != "$rows" ]; then
                    lh_error="answered rows=$got duplicate=${dup:-absent}, expected rows=$rows, not a duplicate"
                else
                    lh_t+=("$secs") lh_rss+=("$rss_kb") lh_cpu+=("$cpu")
                    echo "$fmt run $i: lakehouse ${secs}s (cpu ${cpu}s), peak RSS $((rss_kb / 1024)) MB" >&2
                fi
            else
                lh_error="$(grep -v '^\s*$' "$work/stderr" | tail -3 | tr '\n' ' ')"
            fi
            [ -n "$lh_error" ] && echo "$fmt run $i: LAKEHOUSE INGEST FAILED: $lh_error" >&2
            rm -rf "$data"
        fi
        # (2) DuckDB's own COPY of the same file.
        dst="$work/duck-$fmt-$i.parquet"
        if ! timed "$out_dir/duck_copy" "$duck_reader" "$file" "$dst"; then
            echo "run.sh: DuckDB baseline failed on $file: $(cat "$work/stderr")" >&2
            exit 1
        fi
        got="$(cat "$work/stdout")"
        [ "$got" = "$rows" ] || { echo "run.sh: DuckDB wrote $got rows, expected $rows" >&2; exit 1; }
        dk_t+=("$secs") dk_rss+=("$rss_kb") dk_cpu+=("$cpu")
        echo "$fmt run $i: duckdb    ${secs}s (cpu ${cpu}s), peak RSS $((rss_kb / 1024)) MB" >&2
        rm -f "$dst"
    done
    dk_s="$(printf '%s\n' "${dk_t[@]}" | median)"
    dk_kb="$(printf '%s\n' "${dk_rss[@]}" | median)"
    dk_c="$(printf '%s\n' "${dk_cpu[@]}" | median)"
    if [ -n "$lh_error" ]; then
        status=1
        awk -v f="$fmt" -v mb="$size_mb" -v r="$rows" -v b="$bytes" -v ds="$dk_s" -v dk="$dk_kb" \
            -v dc="$dk_c" \
            'BEGIN { printf "%-7s %7s %9d | %8s %10s %7s %7s | %8.1f %10.0f %6.2fs %5.0fMB | %5s %5s\n",
                     f, mb, r, "FAILED", "-", "-", "-", b / 1e6 / ds, r / ds, dc, dk / 1024,
                     "-", "-" }' >> "$table"
        printf '        lakehouse ingest failed: %s\n' "$lh_error" >> "$table"
    else
        lh_s="$(printf '%s\n' "${lh_t[@]}" | median)"
        lh_kb="$(printf '%s\n' "${lh_rss[@]}" | median)"
        lh_c="$(printf '%s\n' "${lh_cpu[@]}" | median)"
        awk -v f="$fmt" -v mb="$size_mb" -v r="$rows" -v b="$bytes" -v ls="$lh_s" -v lk="$lh_kb" \
            -v lc="$lh_c" -v ds="$dk_s" -v dk="$dk_kb" -v dc="$dk_c" \
            'BEGIN { printf "%-7s %7s %9d | %8.1f %10.0f %6.2fs %5.0fMB | %8.1f %10.0f %6.2fs %5.0fMB | %5.2f %5.2f\n",
                     f, mb, r, b / 1e6 / ls, r / ls, lc, lk / 1024, b / 1e6 / ds, r / ds, dc,
                     dk / 1024, ds / ls, (lc > 0 ? dc / lc : 0) }' >> "$table"
    fi
done
{
    echo "# medians of $runs runs; MB = 10^6 bytes of input; CPU = user + system seconds;"
    echo "# RSS = peak resident set; dk = DuckDB COPY; ratio = lakehouse wall-clock throughput"
    echo "# / DuckDB's (goal >= 0.90); cpu r = DuckDB CPU / lakehouse CPU (steadier on a busy box)"
    echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews wall times)"
} >> "$table"
cp "$table" "$out_dir/ingest.txt"
echo
cat "$table"
exit $status
