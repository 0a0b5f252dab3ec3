#!/usr/bin/env bash
# Issue 12 goal 5 (10,000 attribute-scope policies >= 20 % of the one-policy rate), A/B: runs the
# FilterEngineBenchmarks executables of two builds alternately and prints each run's fastest
# iteration (p0) for 1 and 10,000 policies, their ratio and the load. Build each side first with
# `cd Benchmarks && swift build -c release --product FilterEngineBenchmarks`, then copy
# .build/release/{FilterEngineBenchmarks,*.so} into a directory per side (the executable needs the
# interposer libraries beside it).
# usage: Benchmarks/run-goal5.sh [runs] dir [dir...]
set -euo pipefail
runs=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [runs] dir [dir...]" >&2; exit 2; }
for run in $(seq "$runs"); do
  for dir in "$@"; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    LD_LIBRARY_PATH="$dir" "$dir/FilterEngineBenchmarks" --filter "attributes (1|10000) policies" 2>&1 |
      awk -v side="$dir" -v run="$run" -v load="$load" '
        /Debug results for/ { name = $5 }
        /^Throughput/ { inThroughput = 1 }
        # The throughput histogram is in thousands of messages/s; its maximum is p0.
        inThroughput && /#\[Max/ { gsub(/[^0-9.]/, "", $3); rate[name] = $3; inThroughput = 0 }
        END {
          if (rate[1] == "" || rate[10000] == "") { print side ": run " run ": no result" ; exit 1 }
          printf "%s run %d (load %s): 1 policy %.2f M/s, 10000 policies %.3f M/s, ratio %.1f %%\n",
            side, run, load, rate[1] / 1000, rate[10000] / 1000, 100 * rate[10000] / rate[1]
        }'
  done
done
