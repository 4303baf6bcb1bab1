#!/usr/bin/env bash
# Engine speed on a Stable Diffusion 1.5-shaped model with random weights (no download): writes
# the model with `ldm-bench make-model --arch sd15` once, then runs `ldm-bench raw` for one image
# per size (Euler, 20 steps, CFG 7.5, batch 1) in a fresh process each, and renders the "sd15"
# table of docs/BENCHMARKS.md.
#
#   tools/bench/run_sd15.sh [--build DIR] [--model-dir DIR] [--out DIR] [--sizes 64,128,256]
#                           [--threads N] [--device cpu|cuda] [--dtype float32|float16]
#                           [--runs N] [--rows LIST] [--no-render]
#
# Defaults: ./build, the model in ${TMPDIR:-/tmp}/ldm-sd15-random (about 2.1 GB, fp16 files),
# JSON into docs/bench/sd15-<size>.json, 2 threads, cpu, float32, 2 runs per size, no batch
# sweep. GPU: --device cuda --dtype float16 --sizes 512 --threads 0 --rows 1,2,4,8,16.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

BUILD=${LDM_BUILD_DIR:-build}
MODEL_DIR=${TMPDIR:-/tmp}/ldm-sd15-random
OUT=docs/bench
SIZES=64,128,256
THREADS=2
DEVICE=cpu
DTYPE=float32
RUNS=2
ROWS=""
RENDER=1
while (($#)); do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --model-dir) MODEL_DIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --dtype) DTYPE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --no-render) RENDER=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run_sd15: unknown argument $1" >&2; exit 2 ;;
  esac
done
BENCH="$BUILD/ldm-bench"
[[ -x "$BENCH" ]] || { echo "run_sd15: $BENCH is not built" >&2; exit 1; }
mkdir -p "$OUT"

if [[ ! -f "$MODEL_DIR/model_index.json" ]]; then
  echo "== make-model sd15 -> $MODEL_DIR =="
  "$BENCH" make-model --arch sd15 --dtype fp16 --out "$MODEL_DIR"
fi

SWEEP=(--no-sweep --waves 0)
if [[ -n "$ROWS" ]]; then SWEEP=(--rows "$ROWS" --waves 1); fi
IFS=',' read -ra SIZE_LIST <<<"$SIZES"
for size in "${SIZE_LIST[@]}"; do
  echo "== sd15 raw ${size}x${size} =="
  # /usr/bin/time -v reports the peak RSS independently of ldm-bench's own getrusage figure.
  /usr/bin/time -v "$BENCH" raw --model "$MODEL_DIR" --device "$DEVICE" --dtype "$DTYPE" \
    --threads "$THREADS" "${SWEEP[@]}" --single-runs "$RUNS" --size "$size" --steps 20 \
    --sampler euler --guidance 7.5 --prompt "a photograph of an astronaut riding a horse" \
    --json "$OUT/sd15-$size.json" 2>"$OUT/sd15-$size.time"
  grep -E 'Maximum resident|Elapsed' "$OUT/sd15-$size.time"
done

if ((RENDER)); then
  PY=/usr/bin/python3
  [[ -x $PY ]] || PY=python3
  "$PY" tools/bench/render_benchmarks.py --bench-dir "$OUT"
fi
