#!/usr/bin/env bash
# scripts/demo.sh (`make demo`) end to end on a tiny model trained for two steps: the server
# starts on a free port, every row's previews and final image are written, the contact sheet
# exists, and the server is stopped afterwards.
#   demo_script_test.sh BUILD_DIR REPO_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
REPO=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$BUILD/ldm-train" --tiny --stage all --work-dir "$TMP/work" --out "$TMP/model" --ae-steps 2 \
  --ae-batch 2 --unet-steps 2 --unet-batch 2 --cache-size 24 --corpus 300 --max-length 16 \
  --holdout-images 8 --log-every 1 > "$TMP/train.log" 2>&1 || { cat "$TMP/train.log"; exit 1; }
LDM_DEMO_SKIP_SETUP=1 LDM_BUILD_DIR="$BUILD" LDM_DEMO_MODEL="$TMP/model" LDM_DEMO_OUT="$TMP/out" \
  bash "$REPO/scripts/demo.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -s "$TMP/out/contact-sheet.png" ]] || fail "no contact sheet"
images=$(ls "$TMP"/out/demo/*/image.png | wc -l)
[[ "$images" == 8 ]] || fail "expected 8 images, got $images"
for row in "$TMP"/out/demo/text-1 "$TMP"/out/demo/map-2; do
  previews=$(ls "$row" | grep -c '^step[0-9]*-0\.png$' || true)
  [[ "$previews" -ge 4 ]] || fail "$row has $previews previews"
done
# 8 rows; the widest (map rows) hold the input map, the previews at steps 5, 10, 15, 20 and the
# image: 6 cells of 64 px plus 2 px gaps.
png_size=$(od -An -tu1 -j16 -N8 "$TMP/out/contact-sheet.png" | tr -s ' ')
read -r w0 w1 w2 w3 h0 h1 h2 h3 <<< "$png_size"
width=$(( (w0 << 24) | (w1 << 16) | (w2 << 8) | w3 ))
height=$(( (h0 << 24) | (h1 << 16) | (h2 << 8) | h3 ))
[[ "$height" == $(( 8 * 66 + 2 )) ]] || fail "sheet height $height"
[[ "$width" == $(( 6 * 66 + 2 )) ]] || fail "sheet width $width"
if pgrep -f -- "--model demo=$TMP/model" > /dev/null; then fail "the server is still running"; fi
echo "demo script: ok (${width}x${height} sheet)"
