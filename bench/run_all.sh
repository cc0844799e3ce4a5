#!/bin/sh
# Runs every benchmark and rewrites bench/RESULTS.md. About 7 minutes with a cached log
# (bench/out/cache), 3 of them a simulated year of 10,000 people; the first run also
# simulates the restart log (a few minutes of CPU).
#
#   bench/run_all.sh [--quick]        --quick: shorter rows and a smaller log (a smoke run)
#
# Environment: BENCH_DIR=/path puts the state dirs on another filesystem (default: $TMPDIR
# or /tmp); TANDEM_BIN=/path measures another build.
set -eu
usage() {
    echo "usage: bench/run_all.sh [--quick]   every benchmark; rewrites bench/RESULTS.md (see bench/README.md)"
}
QUICK=0
case "${1:-}" in
    "") ;;
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;   # not a full run by mistake: it takes minutes and rewrites RESULTS.md
esac
cd "$(dirname "$0")/.."
BENCH=bench
OUT=$BENCH/out/run
rm -rf "$OUT"
mkdir -p "$OUT"

make -s
make -s -C "$BENCH"

PARENT=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/tandem-bench-XXXXXX")
trap 'rm -rf "$PARENT"' EXIT INT TERM

echo "== fsync_rate (the disk's own fdatasync rate) in $PARENT"
echo "[" > "$OUT/fsync.json"
for i in 1 2 3; do
    "$BENCH/fsync_rate" "$PARENT" -t "$([ $QUICK = 1 ] && echo 1 || echo 3)" --json | tee -a "$OUT/fsync.json"
    [ $i -lt 3 ] && echo "," >> "$OUT/fsync.json"
done
echo "]" >> "$OUT/fsync.json"

echo "== daemon_bench"
if [ $QUICK = 1 ]; then
    python3 "$BENCH/daemon_bench.py" --dir "$PARENT" --seconds 0.5 --fsync-seconds 0.3 --scaling 0,10000 \
        --json "$OUT/daemon.json" --markdown "$OUT/daemon.md" || echo "daemon_bench: some rows VOID"
else
    python3 "$BENCH/daemon_bench.py" --dir "$PARENT" \
        --json "$OUT/daemon.json" --markdown "$OUT/daemon.md" || echo "daemon_bench: some rows VOID"
fi

echo "== restart_bench"
if [ $QUICK = 1 ]; then
    python3 "$BENCH/restart_bench.py" --dir "$PARENT" --people 500 --days 120 --repeat 1 \
        --json "$OUT/restart.json" --markdown "$OUT/restart.md"
else
    python3 "$BENCH/restart_bench.py" --dir "$PARENT" --json "$OUT/restart.json" --markdown "$OUT/restart.md"
fi

echo "== solve_bench (tandem's solvers vs LEMON, scipy, networkx)"
SOLVE=0
if make -s -C "$BENCH" solve; then
    if [ $QUICK = 1 ]; then
        python3 "$BENCH/solve_bench.py" --quick --dir "$PARENT" --json "$OUT/solve.json" --markdown "$OUT/solve.md" && SOLVE=1 \
            || echo "solve_bench: an optimum differed or a program failed"
    else
        python3 "$BENCH/solve_bench.py" --dir "$PARENT" --json "$OUT/solve.json" --markdown "$OUT/solve.md" && SOLVE=1 \
            || echo "solve_bench: an optimum differed or a program failed"
    fi
else
    echo "solve_bench: not built (needs liblemon-dev); skipped"
fi

echo "== simulate_bench (a year of all eleven models blended)"
if [ $QUICK = 1 ]; then
    python3 "$BENCH/simulate_bench.py" --dir "$PARENT" --people 1000 --days 60 --markdown "$OUT/simulate.md"
else
    python3 "$BENCH/simulate_bench.py" --dir "$PARENT" --markdown "$OUT/simulate.md"
fi

python3 "$BENCH/write_results.py" "$OUT" "$PARENT" "$BENCH/RESULTS.md"
if [ -f "$OUT/solve.md" ]; then
    { echo; echo "## The solvers against LEMON, scipy and networkx (\`bench/solve_bench.py\`)"; echo
      [ $SOLVE = 1 ] || echo "**An optimum differed or a program failed: see below.**"; echo
      cat "$OUT/solve.md"; } >> "$BENCH/RESULTS.md"
fi
if [ -f "$OUT/simulate.md" ]; then
    { echo; echo "## A year of every model blended (\`bench/simulate_bench.py\`)"; echo
      cat "$OUT/simulate.md"; } >> "$BENCH/RESULTS.md"
fi
