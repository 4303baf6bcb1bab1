#!/usr/bin/env bash
# tools/bench/run_benchmarks.sh --quick end to end on a tiny random model: every JSON file, the
# summary, the plot and the rendered tables of a copy of docs/BENCHMARKS.md, with zero failed
# requests; then tools/bench/run_paired.sh --quick (2 rounds): every round in the summary and the
# doc's paired block. Usage: run_benchmarks_quick_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

"$BUILD/ldm-bench" make-model --arch tiny --out "$TMP/tiny" >/dev/null
cp "$SRC/docs/BENCHMARKS.md" "$TMP/BENCHMARKS.md"
"$SRC/tools/bench/run_benchmarks.sh" --quick --build "$BUILD" --model "$TMP/tiny" \
  --out "$TMP/out" --doc "$TMP/BENCHMARKS.md" --plot "$TMP/plot.png" --threads 1 >"$TMP/log" 2>&1 ||
  { cat "$TMP/log"; echo "FAIL: run_benchmarks.sh exited $?"; exit 1; }

fail() { echo "FAIL: $*"; cat "$TMP/log"; exit 1; }
for f in raw-g5 raw-g1 serve-g5 serve-g1 sequential-g5 sequential-g1 serve-open serve-mixed summary; do
  [[ -s "$TMP/out/$f.json" ]] || fail "$f.json missing"
done
[[ -s "$TMP/plot.png" ]] || fail "no plot"
grep -q '### Targets' "$TMP/BENCHMARKS.md" || fail "targets table not rendered"
grep -q 'Latency by concurrency (guidance 5)' "$TMP/BENCHMARKS.md" || fail "latency table missing"
if grep -q 'Not measured yet: the shipped model' "$TMP/BENCHMARKS.md"; then
  fail "the placeholder was not replaced"
fi
# Everything outside the generated block is kept.
grep -q '## GPU recipe' "$TMP/BENCHMARKS.md" || fail "text outside the block was lost"
"$PY" - "$TMP/out" <<'PYEOF' || fail "failed requests"
import json, sys
for name in ["serve-g5", "serve-g1", "sequential-g5", "sequential-g1", "serve-open", "serve-mixed"]:
    doc = json.load(open(f"{sys.argv[1]}/{name}.json"))
    for p in doc["points"]:
        assert p["errors"] == 0, (name, p["error_messages"])
        assert p["images"] > 0, name
summary = json.load(open(f"{sys.argv[1]}/summary.json"))
assert len(summary["targets"]) == 6, summary
PYEOF
"$SRC/tools/bench/run_paired.sh" --quick --rounds 2 --build "$BUILD" --model "$TMP/tiny" \
  --out "$TMP/paired" --doc "$TMP/BENCHMARKS.md" --threads 1 --rows 4 >"$TMP/log" 2>&1 ||
  fail "run_paired.sh exited $?"
grep -q '^| round | raw limit g5' "$TMP/BENCHMARKS.md" || fail "paired block not rendered"
grep -q '## GPU recipe' "$TMP/BENCHMARKS.md" || fail "text outside the paired block was lost"
"$PY" - "$TMP/paired" <<'PYEOF' || fail "paired summary"
import json, sys
s = json.load(open(f"{sys.argv[1]}/paired-summary.json"))
assert [r["round"] for r in s["rounds"]] == [1, 2], s["rounds"]
assert not s["skipped"], s["skipped"]
assert len(s["targets"]) == 6, s["targets"]
for t in s["targets"]:
    assert t["min"] <= t["median"] <= t["max"], t
PYEOF
echo "PASS"
