#!/usr/bin/env bash
# rudder's main job, end to end: render charts/web for dev and prod side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
rudder=target/release/rudder
echo "== rudder template web charts/web --env dev =="
$rudder template web charts/web --env dev
echo "== rudder template web charts/web --env prod =="
$rudder template web charts/web --env prod
