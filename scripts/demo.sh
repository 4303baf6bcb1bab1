#!/usr/bin/env bash
# `make demo`: builds ldm, starts ldm-server on the shipped model (a free port), generates text,
# class and semantic-map samples with their progress previews, tiles them into
# out/contact-sheet.png, and stops the server.
#
# Each row of the sheet is one request: [the input map,] the previews every 5 steps (latent
# projection, shown at image size), then the final image.
# Environment: LDM_DEMO_MODEL (default models/toy-shapes), LDM_DEMO_OUT (default out),
# LDM_BUILD_DIR (default build), LDM_DEMO_SKIP_SETUP=1 to skip install-deps/build.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${LDM_BUILD_DIR:-build}
MODEL=${LDM_DEMO_MODEL:-models/toy-shapes}
OUT=${LDM_DEMO_OUT:-out}
if [[ "${LDM_DEMO_SKIP_SETUP:-0}" != "1" ]]; then
  bash scripts/install-deps.sh
  bash scripts/build.sh
fi
if [[ ! -f "$MODEL/model_index.json" ]]; then
  echo "demo: no model at $MODEL (train it with tools/train/run_training.sh)" >&2
  exit 1
fi
for tool in ldm-server ldm-client ldm-shapes ldm-contact-sheet; do
  [[ -x "$BUILD/$tool" ]] || { echo "demo: $BUILD/$tool was not built" >&2; exit 1; }
done
rm -rf "$OUT/demo"
mkdir -p "$OUT/demo"

# The server picks a free port and prints it; stop it (SIGTERM drains) whatever happens.
"$BUILD/ldm-server" --model "demo=$MODEL" --port 0 --metrics-port -1 > "$OUT/demo/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 1 600); do
  PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$OUT/demo/server.log" | head -1)
  [[ -n "$PORT" ]] && break
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/demo/server.log" >&2; exit 1; }
  sleep 0.2
done
[[ -n "$PORT" ]] || { echo "demo: the server did not start" >&2; exit 1; }
CLIENT=("$BUILD/ldm-client" --target "localhost:$PORT")
for _ in $(seq 1 300); do
  "${CLIENT[@]}" health > /dev/null 2>&1 && break
  sleep 0.2
done
"${CLIENT[@]}" health

# Two held-out-style label maps (hand-drawn-like blobs) from the dataset generator.
"$BUILD/ldm-shapes" --out "$OUT/demo/maps" --count 2 --kind hand --seed 4242 > /dev/null

ROWS=()
generate() {  # name, then ldm-client generate arguments
  local name=$1 input=""
  shift
  "${CLIENT[@]}" generate "$@" --steps 25 --seed 7 --previews "$OUT/demo/$name" \
    --preview-every 5 --out "$OUT/demo/$name/image.png" --quiet
  for arg in "$@"; do [[ "$arg" == *_labels.png ]] && input="$arg,"; done
  local previews
  previews=$(ls "$OUT/demo/$name" | grep '^step[0-9]*-0\.png$' | sort -V |
             sed "s|^|$OUT/demo/$name/|" | tr '\n' ',')
  ROWS+=(--row "$input$previews$OUT/demo/$name/image.png")
  echo "demo: $name -> $OUT/demo/$name/image.png"
}
generate text-1 --prompt "a red circle" --guidance 5
generate text-2 --prompt "a large blue square at the top left" --guidance 5
generate text-3 --prompt "a yellow triangle on the left and a purple circle on the right" \
  --guidance 5
generate text-4 --prompt "a small green circle on a black background" --guidance 5
generate class-1 --class "cyan triangle" --guidance 3
generate class-2 --class "purple square" --guidance 3
generate map-1 --semantic-map "$OUT/demo/maps/000000_labels.png" --guidance 3
generate map-2 --semantic-map "$OUT/demo/maps/000001_labels.png" --guidance 3

"$BUILD/ldm-contact-sheet" --out "$OUT/contact-sheet.png" --cell 64 --maps-as-labels "${ROWS[@]}"
echo "demo: contact sheet $OUT/contact-sheet.png (rows: 4 captions, 2 classes, 2 maps)"
