#!/usr/bin/env bash
# The real tier of `make test`: rudder's end-to-end suites against a real Kubernetes control plane
# (scripts/real-cluster.sh), one cluster shared by all suites, each test in a namespace of its own.
# RUDDER_REAL_SUITES overrides the list of test targets (space-separated).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITES=${RUDDER_REAL_SUITES:-release_flows release_commands release_helm diff real_helm}
CARGO=${CARGO:-cargo}

start=$(date +%s)
bash scripts/real-cluster.sh build
built=$(date +%s)

run=$(mktemp -d "${TMPDIR:-/tmp}/rudder-test-real.XXXXXX")
cleanup() { bash scripts/real-cluster.sh down --dir "$run/cluster" || true; rm -rf "$run"; }
trap cleanup EXIT
# --watch-pid: even if this script is killed, the cluster goes with it.
bash scripts/real-cluster.sh up --kubeconfig "$run/kubeconfig" --dir "$run/cluster" --watch-pid $$ >/dev/null
up=$(date +%s)

args=()
for s in $SUITES; do args+=(--test "$s"); done
RUDDER_TEST_CLUSTER=real RUDDER_REAL_KUBECONFIG=$run/kubeconfig RUDDER_REAL_AUDIT_LOG=$run/cluster/logs/audit.log \
  "$CARGO" test "${args[@]}" -- --test-threads=2
echo "real tier: build/check $((built - start)) s, cluster up $((up - built)) s, tests $(($(date +%s) - up)) s"
