#!/usr/bin/env bash
# Checks deploy/prometheus: promtool accepts the alert rules, the rule unit tests pass, and the
# Grafana dashboard is valid JSON. A missing promtool is a failure, not a skip.
set -euo pipefail
repo="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
if ! command -v promtool >/dev/null 2>&1; then
  echo "FAIL: promtool not found in PATH (Debian package: prometheus, see scripts/install-deps.sh)" >&2
  exit 2
fi
cd "$repo/deploy/prometheus"
promtool check rules ./*.yml
promtool test rules "$repo/tests/deploy/ldm_alerts_test.yml"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
  grafana-dashboard.json
echo "OK: rules, rule tests and dashboard"
