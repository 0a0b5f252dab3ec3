#!/usr/bin/env bash
# Herald and nats-server measured back to back in one run, the same way (shared/bench/natsbench.c's
# method: P publishers × N messages of 128 bytes, S subscribers, TLS on loopback, time from the
# first publish to the last delivery; Herald also confirms every publish).
# usage: Benchmarks/run-side-by-side.sh [runs]   (needs ../shared/bench beside the repository)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shared=${SHARED_BENCH:-../shared/bench}
make -s deps
swift build -c release --product herald >/dev/null
herald=.build/release/herald
port=$((20000 + RANDOM % 20000))
"$herald" serve --config Benchmarks/herald-bench.yaml --listen "127.0.0.1:$port" >/tmp/herald-bench-serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
sleep 1
echo "herald $(git rev-parse --short HEAD) on $(nproc) cores, $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for scenario in "-p 1 -s 1 -n 1000000" "-p 10 -s 10 -n 100000" "-p 1 -s 100 -n 20000" "-p 1 -s 100 -n 20000 --filtered"; do
  for run in $(seq "$runs"); do
    # shellcheck disable=SC2086
    timeout 300 "$herald" bench load --server "127.0.0.1:$port" --ca certs/dev-ca.pem $scenario || echo "herald run failed: $scenario"
  done
done
timeout 300 "$herald" bench load --server "127.0.0.1:$port" --ca certs/dev-ca.pem --latency --rate 20000 --seconds 5 || true
kill $pid 2>/dev/null || true
echo
if [ -x "$shared/run-nats.sh" ] || [ -f "$shared/run-nats.sh" ]; then
  bash "$shared/run-nats.sh"
else
  echo "no $shared/run-nats.sh: nats-server not measured"
fi
