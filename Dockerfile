# syntax=docker/dockerfile:1
# ldm: multi-stage Debian 12 image with ldm-server and the shipped model.
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLDM_BUILD_TESTS=OFF \
      -DLDM_BUILD_BENCHMARKS=OFF -DLDM_BUILD_TOOLS=OFF \
 && cmake --build build -j"$(nproc)" --target ldm-server ldm-client

FROM debian:12-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libtorch1.13 libopenblas0-openmp libgrpc++1.51 libprotobuf32 libspdlog1.10 libicu72 \
      libpng16-16 libssl3 zlib1g libbrotli1 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app ldm
WORKDIR /app
COPY --from=build /src/build/ldm-server /src/build/ldm-client /app/
COPY --from=build /src/models /app/models
USER 10001
EXPOSE 50051 9090
# Every ldm-server flag is also read from its LDM_* variable (see docs/API.md).
ENV LDM_HOST=0.0.0.0 LDM_PORT=50051 LDM_METRICS_PORT=9090 \
    LDM_MODEL=toy-shapes=/app/models/toy-shapes LDM_DRAIN_TIMEOUT=60
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/app/ldm-client", "--target", "127.0.0.1:50051", "--attempts", "1", "health"]
ENTRYPOINT ["/app/ldm-server"]
