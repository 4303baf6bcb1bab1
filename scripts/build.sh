#!/usr/bin/env bash
# Configures and builds ldm into ./build (Ninja, RelWithDebInfo). Extra args go to CMake.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# ccache: share hits between clones of the repo (CI builds in a fresh clone every time).
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
BUILD_DIR=${LDM_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$BUILD_DIR" -j "${LDM_BUILD_JOBS:-$(nproc)}"
