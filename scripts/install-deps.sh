#!/usr/bin/env bash
# Installs everything ldm needs to build, run and test, from Debian 12's packages only.
# Idempotent: does nothing when every package is already installed. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libtorch-dev libopenblas0-openmp
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev libabsl-dev
  libspdlog-dev nlohmann-json3-dev libcli11-dev libicu-dev libpng-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus python3 python3-grpcio python3-protobuf python3-yaml
  gnuplot-nox  # the benchmark plot (tools/bench/render_benchmarks.py)
)

SUDO=""
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root or install sudo" >&2; exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# libtorch's linear layers are 10-20x slower with the reference BLAS: make sure OpenBLAS is chosen.
blas_link=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
if [[ -n "$blas_link" && "$blas_link" != *openblas* ]]; then
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
    /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
  $SUDO update-alternatives --set liblapack.so.3-x86_64-linux-gnu \
    /usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3 || true
fi
echo "install-deps: all dependencies present"
