#!/usr/bin/env bash
# Benchmarks (figures, not pass/fail): wasm size, sign-in latency, health throughput,
# rooms, git against git http-backend. `npm run bench -- --git-only`: git figures only.
source "$(dirname "$0")/lib.sh"
bash scripts/setup.sh
bash scripts/build.sh
node bench/bench.mjs "$@"
