#!/usr/bin/env bash
# Paired rounds for the serving targets on a noisy machine: each round measures the raw limit,
# one raw generation, and a fresh ldm-server at concurrency 1 and 16 plus sequential serving,
# back to back, so every ratio compares figures taken within about a minute of each other.
# tools/bench/paired_summary.py then reports each round's ratios and their medians (and renders
# the "paired" block of docs/BENCHMARKS.md).
#
#   tools/bench/run_paired.sh [--model DIR] [--build DIR] [--out DIR] [--rounds K]
#                             [--threads N] [--step-threads S] [--rows R] [--doc FILE] [--quick] [--no-render]
#
# Defaults: models/toy-shapes, ./build, docs/bench/paired, 5 rounds, 1 torch thread x nproc step threads, R = 32
# batch rows (the best batch of run_benchmarks.sh's raw sweep on the CI machine), doc
# docs/BENCHMARKS.md. All at 64x64, 25 steps, the model's default sampler, a preview every step.
# --quick: 2 steps, few requests (a smoke run for tests; not a benchmark).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

MODEL=models/toy-shapes
BUILD=${LDM_BUILD_DIR:-build}
OUT=docs/bench/paired
ROUNDS=5
# CPU thread layout of both the raw runs and the server: NPROC row chunks per batch, each on one
# intra-op thread (--step-threads; on the CI machine steadier and faster than one chunk on NPROC
# intra-op threads, see docs/BENCHMARKS.md "Thread layout").
THREADS=1
STEP_THREADS=$(nproc)
ROWS=32
DOC=docs/BENCHMARKS.md
QUICK=0
RENDER=1
while (($#)); do
  case "$1" in
    --model) MODEL=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --step-threads) STEP_THREADS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --doc) DOC=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-render) RENDER=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_paired: unknown argument $1" >&2; exit 2 ;;
  esac
done
BENCH="$BUILD/ldm-bench"
SERVER="$BUILD/ldm-server"
# shellcheck source=tools/bench/bench_server.sh
source "$ROOT/tools/bench/bench_server.sh"
for bin in "$BENCH" "$SERVER"; do
  [[ -x "$bin" ]] || { echo "run_paired: $bin is not built" >&2; exit 1; }
done
[[ -f "$MODEL/model_index.json" ]] || { echo "run_paired: $MODEL is not a model folder" >&2; exit 1; }

STEPS=25; WAVES=2; SINGLES=8; TOP=16; TOP_REQ=(); SEQ_REQ=8; C1_REQ=16
if ((QUICK)); then STEPS=2; WAVES=1; SINGLES=1; TOP=4; TOP_REQ=(--requests 4); SEQ_REQ=2; C1_REQ=2; fi
mkdir -p "$OUT"
rm -f "$OUT"/round-*.json

for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r/$ROUNDS =="
  for g in 5 1; do
    IMAGES=$ROWS
    ((g > 1)) && IMAGES=$((ROWS / 2))
    "$BENCH" raw --model "$MODEL" --threads "$THREADS" --step-threads "$STEP_THREADS" \
      --no-sweep --batch-images "$IMAGES" --size 64 --steps "$STEPS" --guidance "$g" \
      --waves "$WAVES" --single-runs "$SINGLES" \
      --json "$OUT/round-$r-raw-g$g.json" >/dev/null
  done
  bench_start_server "$SERVER" "$MODEL" "$THREADS" "$ROWS" "$OUT" "$STEP_THREADS"
  COMMON=(--target "$TARGET" --wait 600 --sizes 64 --steps "$STEPS" --preview-every 1)
  run_bench serve "${COMMON[@]}" --guidance 5 --concurrency 1 --requests "$C1_REQ" \
    --json "$OUT/round-$r-serve-g5-c1.json" >/dev/null
  for g in 5 1; do
    run_bench serve "${COMMON[@]}" --guidance "$g" --concurrency "$TOP" "${TOP_REQ[@]}" \
      --json "$OUT/round-$r-serve-g$g-top.json" >/dev/null
    run_bench sequential "${COMMON[@]}" --guidance "$g" --requests "$SEQ_REQ" \
      --json "$OUT/round-$r-sequential-g$g.json" >/dev/null
  done
  bench_stop_server
done
trap - EXIT

PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
ARGS=(--dir "$OUT" --rounds "$ROUNDS")
((RENDER)) && ARGS+=(--doc "$DOC" --command "tools/bench/run_paired.sh --rounds $ROUNDS --model $MODEL")
"$PY" tools/bench/paired_summary.py "${ARGS[@]}"
