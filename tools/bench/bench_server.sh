# Sourced by run_benchmarks.sh and run_paired.sh: a benchmark ldm-server on a free local port.
#
#   bench_start_server SERVER MODEL THREADS ROWS OUT [STEP_THREADS]
#                                                      starts it (stdout/log under OUT; torch
#                                                      intra-op THREADS, --step-threads
#                                                      STEP_THREADS, default 1) and waits for its
#                                                      port; sets SERVER_PID and TARGET
#   bench_stop_server                                  stops it (SIGTERM, waits); safe to repeat
#   run_bench ARGS...                                  ldm-bench, where exit 3 (failed requests,
#                                                      reported in the JSON) is not an error
# BENCH must name ldm-bench. Messages name the calling script ($0). ldm-server and `ldm-bench
# raw` both default to --malloc auto (core/common/host_allocator.h), so they share the policy.

SERVER_PID=""
TARGET=""

bench_stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

bench_start_server() {
  local server=$1 model=$2 threads=$3 rows=$4 out=$5 step_threads=${6:-1}
  local me
  me=$(basename "$0" .sh)
  "$server" --model "bench=$model" --host 127.0.0.1 --port 0 --metrics-port -1 \
    --threads "$threads" --step-threads "$step_threads" --max-batch-rows "$rows" --max-queue 1024 --log-level warn \
    >"$out/server.stdout" 2>"$out/server.log" &
  SERVER_PID=$!
  trap bench_stop_server EXIT
  for _ in $(seq 1 600); do
    grep -q '^listening on' "$out/server.stdout" 2>/dev/null && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "$me: ldm-server exited; see $out/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  TARGET=$(sed -n 's/^listening on .*:\([0-9]*\)$/127.0.0.1:\1/p' "$out/server.stdout" | head -1)
  if [[ -z "$TARGET" ]]; then
    echo "$me: ldm-server did not announce its port" >&2
    exit 1
  fi
}

run_bench() { "$BENCH" "$@" || [[ $? -eq 3 ]]; }
