#!/usr/bin/env bash
# rudder's main job, end to end, with no cluster needed: start a sandbox API server, render
# charts/web for dev and prod, install it, diff and upgrade it with a new image tag, show the history,
# diff and roll back, uninstall, and stop the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
rudder=${RUDDER:-target/release/rudder}

work=$(mktemp -d)
sandbox_pid=""
cleanup() {
    if [[ -n "$sandbox_pid" ]]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s ==\n' "$*"; }

step "rudder template web charts/web --env dev (first lines)"
$rudder template web charts/web --env dev | head -n 20
step "rudder template web charts/web --env prod (first lines)"
$rudder template web charts/web --env prod | head -n 20

step "rudder sandbox --listen 127.0.0.1:0 --kubeconfig $work/kubeconfig"
# The sandbox prints one ready line on stdout, then serves until stopped.
mkfifo "$work/ready"
$rudder sandbox --listen 127.0.0.1:0 --kubeconfig "$work/kubeconfig" >"$work/ready" 2>"$work/sandbox.log" &
sandbox_pid=$!
read -r ready <"$work/ready"
echo "$ready"
export KUBECONFIG="$work/kubeconfig"
# Keep draining the sandbox's stdout so it never blocks.
cat "$work/ready" >/dev/null &

step "rudder install web charts/web --env dev"
$rudder install web charts/web --env dev

step "rudder diff upgrade web charts/web --env dev --set-string image.tag=1.27.1"
# What the upgrade will change in the live cluster (exit code 2 under --detailed-exitcode
# means "there are changes", so it is not an error here).
$rudder diff upgrade web charts/web --env dev --set-string image.tag=1.27.1 --detailed-exitcode || [[ $? -eq 2 ]]

step "rudder upgrade web charts/web --env dev --set-string image.tag=1.27.1 --wait"
$rudder upgrade web charts/web --env dev --set-string image.tag=1.27.1 --wait

step "rudder history web"
$rudder history web

step "rudder diff rollback web 1"
$rudder diff rollback web 1 || true

step "rudder rollback web 1"
$rudder rollback web 1
$rudder history web

step "rudder list"
$rudder list

step "rudder uninstall web"
$rudder uninstall web
$rudder list

step "stopping the sandbox"
