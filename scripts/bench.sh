#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail): wasm size, sign-in latency, health throughput.
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
bash scripts/build.sh
node bench/bench.mjs "$@"
