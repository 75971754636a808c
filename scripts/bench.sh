#!/usr/bin/env bash
# Rendering speed: each example chart in-process 1000 times, and `rudder template` as a whole
# process 50 times (release build). Prints median milliseconds. Target: charts/web under 10 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin rudder --example render_bench
target/release/examples/render_bench \
  --rudder target/release/rudder --iterations 1000 --processes 50 \
  charts/web charts/redis
