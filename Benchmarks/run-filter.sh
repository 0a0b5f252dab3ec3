#!/usr/bin/env bash
# Filter matching on the shared CityLots workload (shared/bench/citylots_gen.py, seed 1) with the
# shared rule set, one core; quamina's and event-ruler's figures are in docs/PERFORMANCE.md.
# Then the attribute-scope workload (Benchmarks/attribute-workload.py, seed 1): 1 … 10,000 policies
# on one topic; issue 12's goal 5 is the 10000/1 ratio (>= 20 %).
# usage: Benchmarks/run-filter.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shared=${SHARED_BENCH:-../shared/bench}
make -s deps
swift build -c release --product herald >/dev/null
events=${EVENTS:-/tmp/citylots.jsonl}
[ -s "$events" ] || python3 "$shared/citylots_gen.py" --count 213068 --seed 1 >"$events"
echo "herald $(git rev-parse --short HEAD), $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  echo "run $run"
  .build/release/herald bench filter --policies "$shared/citylots-rules.json" --events "$events" --scope MessageBody
done
attributes=${ATTRIBUTES:-/tmp/herald-attribute-workload}
[ -s "$attributes/attribute-events.jsonl" ] || python3 Benchmarks/attribute-workload.py --seed 1 "$attributes"
for run in $(seq "$runs"); do
  echo "attribute scope, run $run, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  .build/release/herald bench filter --scope MessageAttributes --policies "$attributes/attribute-policies.json" \
    --events "$attributes/attribute-events.jsonl"
done
