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
echo
echo "== render: example charts in-process (1000 renders) and as whole rudder template processes (50 runs), --env prod"
cargo build --release --quiet --bin rudder --example render_bench
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
"$TARGET_DIR/release/examples/render_bench" --rudder "$TARGET_DIR/release/rudder" charts/web charts/redis
CORPUS="${RUDDER_CORPUS:-$(cd .. && pwd)/shared/corpus}"
echo
if [ -f "$CORPUS/timing.json" ]; then
  echo "== corpus: rudder template on every case of $CORPUS (median of 20 processes) vs Helm 4's fresh process (timing.json)"
  "$TARGET_DIR/release/examples/render_bench" --rudder "$TARGET_DIR/release/rudder" --corpus "$CORPUS" --processes 20
  # timing.json was taken on another day; a VM's speed drifts by tens of percent between
  # minutes. Helm's fresh process timed now, taking turns with rudder's, is the fair comparison.
  if .venv/bin/python -c "import helm_python" 2>/dev/null; then
    echo
    echo "== corpus, same moment: Helm 4's fresh process (helm_python) timed now, taking turns with rudder's"
    "$TARGET_DIR/release/examples/render_bench" --rudder "$TARGET_DIR/release/rudder" --corpus "$CORPUS" --processes 20 --helm-python .venv/bin/python
  else
    echo "== corpus, same moment: skipped (no .venv with helm_python: run make test-deps)"
  fi
else
  echo "== corpus: not found at $CORPUS (set RUDDER_CORPUS): skipped"
fi
