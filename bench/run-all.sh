#!/usr/bin/env bash
# Runs every benchmark once, in sequence, on an otherwise idle machine, and keeps each one's output
# in $OUT (default bench/out/<timestamp>/) for copying into bench/RESULTS.md.
#   bash bench/run-all.sh [--quick]
# OPENBLAS_CORETYPE is unset so that kernelflow's native backend and numpy's OpenBLAS both pick their
# own best kernels (a value inherited from the shell would pin both to it). The GP peer runs under
# $GP_PYTHON (default /usr/bin/python3, Debian's, where python3-sklearn installs scikit-learn).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
unset OPENBLAS_CORETYPE
quick=${1:-}
run() {
  local name=$1; shift
  echo "==> $name: $* (load $(cut -d' ' -f1 /proc/loadavg))"
  local t0=$SECONDS
  "$@" > "$OUT/$name.md" 2> "$OUT/$name.err"
  echo "    exit $? in $((SECONDS - t0)) s -> $OUT/$name.md"
}
if [ "$quick" = "--quick" ]; then sizes=1024,2048; else sizes=1024,2048,4096; fi
run native npx tsx bench/native.ts --sizes 512,1024,2048 --backends native,wasm --reps 3
run kernels npx tsx bench/kernels.ts --sizes "$sizes" --backends native,wasm --reps 2 --budget 60
run linalg npx tsx bench/linalg.ts --sizes "$sizes" --backends native,wasm --eigh 1024,2048 --reps 2 --budget 60
run attention npx tsx bench/attention.ts --sizes 1024,4096,16384 --backends native,wasm --reps 2
KERNELFLOW_BENCH_PYTHON=${GP_PYTHON:-/usr/bin/python3} run gp npx tsx bench/gp.ts --sizes 500,1000,2000,4000 --sgpr 10000,50000 --backends native,wasm --reps 3
run train-native npx tsx bench/train.ts --backend native --steps 20
run train-wasm npx tsx bench/train.ts --backend wasm --steps 20
if [ -n "${KERNELFLOW_TEST_REDIS:-}" ]; then run distributed npx tsx bench/distributed.ts --queue "$KERNELFLOW_TEST_REDIS"; fi
echo "results in $OUT"
