#!/usr/bin/env bash
# Sets up everything (packages, build) and starts ldm-server on the shipped models (toy-shapes,
# and the toy-shapes-sr upscaler when present).
# Extra arguments go to ldm-server (e.g. --port 50051 --model name=/path/to/diffusers-folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${LDM_BUILD_DIR:-build}
if [[ ! -x "$BUILD_DIR/ldm-server" ]]; then
  echo "serve: $BUILD_DIR/ldm-server was not built" >&2
  exit 1
fi
MODEL_ARGS=()
if [[ " $* " != *" --model"* ]]; then
  if [[ ! -f models/toy-shapes/model_index.json ]]; then
    echo "serve: the shipped model models/toy-shapes is not in this checkout yet;" >&2
    echo "       train it with tools/train/run_training.sh or pass --model name=/path/to/folder" >&2
    exit 1
  fi
  MODEL_ARGS=(--model "toy-shapes=models/toy-shapes")
  # The shipped 4x upscaler serves low_res_image requests and `upscale` chaining.
  if [[ -f models/toy-shapes-sr/model_index.json ]]; then
    MODEL_ARGS+=(--model "toy-shapes-sr=models/toy-shapes-sr")
  fi
fi
exec "$BUILD_DIR/ldm-server" "${MODEL_ARGS[@]}" --port "${LDM_PORT:-50051}" \
  --metrics-port "${LDM_METRICS_PORT:-9090}" "$@"
