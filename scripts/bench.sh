#!/usr/bin/env bash
# `make bench`: every benchmark, in the release profile. Numbers only; nothing here asserts times.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== rudder sandbox: 8 concurrent clients over loopback HTTP/1.1"
cargo bench --bench sandbox_load
echo
echo "== releases: install and upgrade of testdata/bench/chart-300 (300 objects), rudder vs Helm 4 SDK, sandbox --latency 20"
cargo bench --bench release_flow
echo
echo "== diff: rudder diff upgrade of testdata/bench/chart-300 (300 objects), sandbox --latency 20, concurrent vs sequential"
cargo bench --bench diff_upgrade
