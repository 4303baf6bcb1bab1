#!/usr/bin/env bash
# Starts or resumes the super-resolution training (models/toy-shapes-sr; docs/MODEL.md), like
# run_training.sh: idempotent, resumable from the latest checkpoint, finished stages skipped.
#
#   tools/train/run_sr_training.sh            # background (nohup), log in $WORK/train.log
#   tools/train/run_sr_training.sh --fg       # foreground
#   EXPORT=1 tools/train/run_sr_training.sh   # also export to models/toy-shapes-sr when done
#
# It only needs the trained autoencoder of the base run (VAE, default
# /work/ldm-train-state/autoencoder/vae): the SR pairs are encoded with its encoder. The export
# ships EXPORT_VAE (default models/toy-shapes/vae when it exists, i.e. the base model's final
# VAE, else VAE). Environment: WORK (default /work/ldm-train-state-sr), BUILD (default
# build-train), THREADS (2), DEVICE (cpu). The recipe is fixed here so every resume uses the
# same schedule.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="${WORK:-/work/ldm-train-state-sr}"
BUILD="${BUILD:-$REPO/build-train}"
THREADS="${THREADS:-2}"
DEVICE="${DEVICE:-cpu}"
VAE="${VAE:-/work/ldm-train-state/autoencoder/vae}"
if [[ -z "${EXPORT_VAE:-}" ]]; then
  EXPORT_VAE="$VAE"
  [[ -f "$REPO/models/toy-shapes/vae/config.json" ]] && EXPORT_VAE="$REPO/models/toy-shapes/vae"
fi
mkdir -p "$WORK"

if pgrep -f -- "ldm-train .*--work-dir $WORK( |\$)" > /dev/null; then
  echo "ldm-train is already running on $WORK (see $WORK/train.log)"
  exit 0
fi

# (Re)build when the binary is missing or predates the SR stages.
if [[ ! -x "$BUILD/ldm-train" ]] || ! "$BUILD/ldm-train" --help 2>/dev/null | grep -q -- --sr-steps; then
  cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  ninja -C "$BUILD" -j"$THREADS" ldm-train
fi

STAGE="sr"
[[ "${EXPORT:-0}" == "1" ]] && STAGE="sr-all"
ARGS=(--stage "$STAGE" --work-dir "$WORK" --out "$REPO/models/toy-shapes-sr" --resume --seed 0
      --device "$DEVICE" --threads "$THREADS" --sr-vae "$VAE" --sr-export-vae "$EXPORT_VAE"
      --sr-steps 4000 --sr-batch 32 --sr-lr 5e-4 --sr-cache-size 16384 --ema-decay 0.998
      --checkpoint-steps 200 --checkpoint-minutes 5 --log-every 10)

if [[ "${1:-}" == "--fg" ]]; then
  "$BUILD/ldm-train" "${ARGS[@]}"
else
  nohup nice -n 10 "$BUILD/ldm-train" "${ARGS[@]}" >> "$WORK/train.log" 2>&1 &
  echo "started ldm-train --stage $STAGE (pid $!), log: $WORK/train.log"
fi
