#!/usr/bin/env bash
# Runs the ldm benchmark suite on one model and renders docs/BENCHMARKS.md's result tables and
# plot from the JSON it writes (see docs/BENCHMARKS.md, "Method").
#
#   tools/bench/run_benchmarks.sh [--model DIR] [--build DIR] [--out DIR] [--doc FILE]
#                                 [--plot FILE] [--threads N] [--step-threads S] [--quick]
#                                 [--no-render]
#
# Defaults: the shipped model models/toy-shapes, ./build, JSON into docs/bench/, the doc
# docs/BENCHMARKS.md, the plot docs/images/bench-concurrency.png, 1 torch thread x nproc step
# threads.
# --quick: a smoke run (few steps, few requests, concurrency up to 4) for tests and new
# machines; its numbers are not benchmarks. Needs a built ldm-server and ldm-bench.
#
# Steps (all at SIZE x SIZE, STEPS steps, the model's default sampler):
#   1. raw-g5.json / raw-g1.json   ldm-bench raw: UNet steps/s at 1..64 rows, full generations at
#                                  the best batch (<= 2 x the top concurrency rows), one alone
#   2. ldm-server with --max-batch-rows = that best batch, --threads N --step-threads S
#   3. serve-g5.json / serve-g1.json   closed-loop sweep over CONCURRENCY at guidance 5 and 1
#   4. sequential-g5.json / sequential-g1.json   the same requests one at a time
#   5. serve-open.json    open loop: Poisson arrivals at 50% and 90% of the raw limit
#   6. serve-mixed.json   a mixed workload (samplers, steps, guidance, conditioning kinds, two
#                         sizes) at the top concurrency
#   7. render_benchmarks.py: tables into the doc between its GENERATED markers, the plot (gnuplot)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

MODEL=models/toy-shapes
BUILD=${LDM_BUILD_DIR:-build}
OUT=docs/bench
DOC=docs/BENCHMARKS.md
PLOT=docs/images/bench-concurrency.png
# CPU thread layout of both the raw runs and the server: NPROC row chunks per batch, each on one
# intra-op thread (--step-threads; on the CI machine steadier and faster than one chunk on NPROC
# intra-op threads, see docs/BENCHMARKS.md "Thread layout").
THREADS=1
STEP_THREADS=$(nproc)
QUICK=0
RENDER=1
while (($#)); do
  case "$1" in
    --model) MODEL=$2; shift 2 ;;
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --doc) DOC=$2; shift 2 ;;
    --plot) PLOT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --step-threads) STEP_THREADS=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --no-render) RENDER=0; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run_benchmarks: unknown argument $1" >&2; exit 2 ;;
  esac
done

BENCH="$BUILD/ldm-bench"
SERVER="$BUILD/ldm-server"
# shellcheck source=tools/bench/bench_server.sh
source "$ROOT/tools/bench/bench_server.sh"
for bin in "$BENCH" "$SERVER"; do
  if [[ ! -x "$bin" ]]; then
    echo "run_benchmarks: $bin is not built (bash scripts/build.sh)" >&2
    exit 1
  fi
done
if [[ ! -f "$MODEL/model_index.json" ]]; then
  echo "run_benchmarks: $MODEL is not a diffusers model folder" >&2
  exit 1
fi

SIZE=64
GUIDANCE=5
PREVIEW_EVERY=1
if ((QUICK)); then
  STEPS=4; CONCURRENCY=1,2,4; TOP=4; ROWS=1,2,4,8; REPEATS=2; WAVES=1; SINGLES=2
  SEQ_REQUESTS=4; REQ_FLAGS=(--requests 4); MIX_REQUESTS=8; OPEN_REQUESTS=6
else
  STEPS=25; CONCURRENCY=1,2,4,8,16,32; TOP=16; ROWS=1,2,4,8,16,32,64; REPEATS=10; WAVES=3
  SINGLES=8; SEQ_REQUESTS=16; REQ_FLAGS=(); MIX_REQUESTS=64; OPEN_REQUESTS=48
fi
mkdir -p "$OUT"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
json_get() { "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

echo "== raw (in process) =="
MAX_ROWS=$((2 * TOP))
"$BENCH" raw --model "$MODEL" --threads "$THREADS" --step-threads "$STEP_THREADS" \
  --rows "$ROWS" --step-repeats "$REPEATS" --max-rows "$MAX_ROWS" --size "$SIZE" \
  --steps "$STEPS" --guidance "$GUIDANCE" --waves "$WAVES" --single-runs "$SINGLES" \
  --json "$OUT/raw-g5.json"
BEST_ROWS=$(json_get "$OUT/raw-g5.json" "d['best_rows']")
"$BENCH" raw --model "$MODEL" --threads "$THREADS" --step-threads "$STEP_THREADS" \
  --no-sweep --batch-images "$BEST_ROWS" --size "$SIZE" --steps "$STEPS" --guidance 1 \
  --waves "$WAVES" --single-runs "$SINGLES" --json "$OUT/raw-g1.json"

echo "== ldm-server (max batch rows $BEST_ROWS, $THREADS threads x $STEP_THREADS step threads) =="
bench_start_server "$SERVER" "$MODEL" "$THREADS" "$BEST_ROWS" "$OUT" "$STEP_THREADS"
COMMON=(--target "$TARGET" --wait 600 --sizes "$SIZE" --steps "$STEPS" \
        --preview-every "$PREVIEW_EVERY")

for g in 5 1; do
  echo "== serve, guidance $g =="
  run_bench serve "${COMMON[@]}" --guidance "$g" --concurrency "$CONCURRENCY" "${REQ_FLAGS[@]}" \
    --json "$OUT/serve-g$g.json"
  echo "== sequential, guidance $g =="
  run_bench sequential "${COMMON[@]}" --guidance "$g" --requests "$SEQ_REQUESTS" \
    --json "$OUT/sequential-g$g.json"
done

echo "== open loop (Poisson arrivals at 50% and 90% of the raw limit) =="
LIMIT=$(json_get "$OUT/raw-g5.json" "d['generation']['images_per_second']")
RATES=$("$PY" -c "import sys; l=float(sys.argv[1]); print(f'{0.5*l:.3f},{0.9*l:.3f}')" "$LIMIT")
run_bench serve "${COMMON[@]}" --guidance "$GUIDANCE" --rate "$RATES" --requests "$OPEN_REQUESTS" \
  --json "$OUT/serve-open.json"

echo "== mixed workload =="
if ((QUICK)); then MIX_STEPS=3,4,5; else MIX_STEPS=15,25,35; fi
run_bench serve --target "$TARGET" --wait 600 --preview-every "$PREVIEW_EVERY" \
  --samplers ddim,euler,euler_ancestral,dpmpp_2m --steps "$MIX_STEPS" --guidance 1,3,5,7.5 \
  --conditioning text,class,map,text+class+map --sizes "$SIZE,$((2 * SIZE))" --prompts 16 \
  --concurrency "$TOP" --requests "$MIX_REQUESTS" --json "$OUT/serve-mixed.json"

bench_stop_server
trap - EXIT

if ((RENDER)); then
  "$PY" tools/bench/render_benchmarks.py --bench-dir "$OUT" --doc "$DOC" --plot "$PLOT" \
    --model "$MODEL" --command "tools/bench/run_benchmarks.sh $(((QUICK)) && echo --quick) --model $MODEL"
fi
echo "run_benchmarks: results in $OUT"
