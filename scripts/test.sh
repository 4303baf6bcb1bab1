#!/usr/bin/env bash
# Sets up everything (packages, build) and runs the whole test suite with CTest.
# Pass ctest arguments to select tests, e.g. `bash scripts/test.sh -L fast`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${LDM_BUILD_DIR:-build}"
ctest --output-on-failure --timeout 900 -j "${LDM_TEST_JOBS:-2}" "$@"
