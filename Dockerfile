# syntax=docker/dockerfile:1
# ldm: multi-stage Debian 12 image with ldm-server and the shipped model.
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLDM_BUILD_TESTS=OFF \
      -DLDM_BUILD_BENCHMARKS=OFF \
 && cmake --build build -j"$(nproc)"

FROM debian:12-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorch1.13 libopenblas0-openmp libgrpc++1.51 libprotobuf32 libspdlog1.10 libicu72 \
      libpng16-16 libssl3 zlib1g libbrotli1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app ldm
WORKDIR /app
COPY --from=build /src/build/ldm-server /app/ldm-server
COPY --from=build /src/models /app/models
USER 10001
EXPOSE 50051 9090
ENV LDM_PORT=50051 LDM_METRICS_PORT=9090 LDM_MODEL=toy-shapes=/app/models/toy-shapes
ENTRYPOINT ["/app/ldm-server"]
