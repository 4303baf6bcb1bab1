#!/usr/bin/env bash
# Starts or resumes the full toy-shapes training run (tokenizer -> text-pretrain -> autoencoder
# -> diffusion -> text-encoder -> class-embeddings -> decoder -> decoder-edges -> classifier
# [-> export]),
# idempotently: finished stages are skipped, an interrupted stage continues from its latest
# checkpoint. Run it again after a session ends; it picks up where the last one stopped.
#
#   tools/train/run_training.sh            # background (nohup), log in $WORK/train.log
#   tools/train/run_training.sh --fg       # foreground
#   EXPORT=1 tools/train/run_training.sh   # also export to models/toy-shapes when done
#
# Environment: WORK (default /work/ldm-train-state), BUILD (default build-train), THREADS (2),
# DEVICE (cpu), EXTRA_ARGS (ldm-train flags appended to the recipe, e.g. "--text-pretrain-steps
# 1500"; flags not already in the recipe), DECODER_STEPS (0: the recipe has no decoder stage since
# session 13, decoder-edges starts from the autoencoder's own decoder; 1500 runs the decoder
# pass the session-12 model had, see docs/MODEL.md "Session 13"). The training
# recipe (steps, batch sizes, learning rates) is fixed here so every resume uses the same
# schedule; see docs/MODEL.md. Since session 14 the diffusion stage and its passes train with
# bfloat16 autocast (--mixed-precision bf16); the diffusion tail runs to step 18000 since session
# 15 (12000 in session 14). Since session 17 the UNet sees maps as 2x2 sub-cells per latent cell
# (--map-subcells 2) and map-only requests default to guidance 1.25 (--map-guidance 1.25).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${WORK:-/work/ldm-train-state}"
BUILD="${BUILD:-$REPO/build-train}"
THREADS="${THREADS:-2}"
DEVICE="${DEVICE:-cpu}"
DECODER_STEPS="${DECODER_STEPS:-0}"
mkdir -p "$WORK"

if pgrep -f -- "ldm-train .*--work-dir $WORK( |\$)" > /dev/null; then
  echo "ldm-train is already running on $WORK (see $WORK/train.log)"
  exit 0
fi

if [[ ! -x "$BUILD/ldm-train" ]]; then
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  ninja -C "$BUILD" -j"$THREADS" ldm-train
fi

# The stages in order (each a no-op once done); EXPORT=1 adds export, which also writes the
# classifier.
STAGES="tokenizer text-pretrain autoencoder diffusion text-encoder class-embeddings decoder"
STAGES+=" decoder-edges classifier"
[[ "${EXPORT:-0}" == "1" ]] && STAGES+=" export"
ARGS=(--work-dir "$WORK" --out "$REPO/models/toy-shapes" --resume --seed 0
      --device "$DEVICE" --threads "$THREADS"
      --ae-steps 4000 --ae-batch 32 --ae-lr 8e-4 --ae-object-weight 2 --ae-edge-weight 8
      --noise-schedule zero-snr-v --decoder-steps "$DECODER_STEPS" --decoder-lr 2e-4
      --edge-decoder-steps 1000 --edge-decoder-lr 2e-4 --edge-decoder-object-weight 2
      --edge-decoder-edge-weight 8 --decode-latent-padding 1
      --unet-steps 18000 --unet-lr-steps 6000 --unet-batch 64 --unet-lr 5e-4 --ema-decay 0.998
      --mixed-precision bf16
      --map-subcells 2 --map-guidance 1.25
      --cache-size 32768
      --text-pretrain-steps 1500 --text-lr-scale 0.5 --position-probe-weight 0.1
      --grounding-weight 0.1 --grounding-start-step 2100
      --high-noise-fraction 0.5 --high-noise-min-t 800 --high-noise-start-step 2624
      --high-noise-end-step 6000
      --text-encoder-steps 600 --text-encoder-lr 1e-4
      --class-embedding-steps 1000 --class-embedding-lr 3e-2
      --clf-steps 1500
      --checkpoint-steps 250 --checkpoint-minutes 10 --log-every 10)
# shellcheck disable=SC2206
[[ -n "${EXTRA_ARGS:-}" ]] && ARGS+=(${EXTRA_ARGS})

run() {
  # Each stage needs the ones before it (diffusion: tokenizer, autoencoder; ...): stop at the
  # first that fails or is interrupted.
  local stage
  for stage in $STAGES; do
    "$BUILD/ldm-train" --stage "$stage" "${ARGS[@]}" || return
  done
}

if [[ "${1:-}" == "--fg" ]]; then
  run
else
  export -f run
  export BUILD STAGES
  ARGS_STR="$(printf '%q ' "${ARGS[@]}")"
  nohup nice -n 10 bash -c "ARGS=($ARGS_STR); $(declare -f run); run" >> "$WORK/train.log" 2>&1 &
  echo "started ldm-train (pid $!), log: $WORK/train.log"
fi
