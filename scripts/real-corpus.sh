#!/usr/bin/env bash
# Every corpus chart on a real cluster: rudder install --wait, diff right after install (must be
# empty), upgrade with a values change, rollback, uninstall. Prints a Markdown table row per chart.
#   KUBECONFIG=... scripts/real-corpus.sh [CHART...]      (default: every chart in $RUDDER_CORPUS)
# RUDDER (default target/release/rudder), TIMEOUT (--wait, default 60s), JOBS (parallel, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${RUDDER_CORPUS:-$(cd .. && pwd)/shared/corpus}
RUDDER=${RUDDER:-target/release/rudder}
TIMEOUT=${TIMEOUT:-60s}
[[ -n ${KUBECONFIG:-} ]] || { echo "set KUBECONFIG to a real cluster's (scripts/real-cluster.sh up)" >&2; exit 2; }

one() {
  local chart=$1 dir=$CORPUS/charts/$1 ns rel t0 install ready diff upgrade rollback uninstall why=""
  ns=c-$(echo "$chart" | tr -c 'a-z0-9\n' '-' | cut -c1-50)
  rel=r
  t0=$(date +%s.%N)
  local log
  log=$(mktemp)
  if "$RUDDER" install "$rel" "$dir" -n "$ns" --create-namespace --wait --timeout "$TIMEOUT" >"$log" 2>&1; then
    install=yes ready=yes
  elif "$RUDDER" status "$rel" -n "$ns" >/dev/null 2>&1; then
    install=yes ready=no why=$(grep -m1 -o 'Error: .*' "$log" | cut -c1-160)
  else
    install=no ready=- why=$(grep -m1 -o 'Error: .*' "$log" | cut -c1-160)
  fi
  if [[ $install == yes ]]; then
    local code=0
    "$RUDDER" diff upgrade "$rel" "$dir" -n "$ns" --detailed-exitcode -o simple >"$log" 2>&1 || code=$?
    case $code in 0) diff=yes ;; 2) diff="no: $(grep -c '^[~+-] ' "$log") objects" ;; *) diff="error" ;; esac
    "$RUDDER" upgrade "$rel" "$dir" -n "$ns" --set-string rudderRealProbe=2 --timeout "$TIMEOUT" >/dev/null 2>&1 && upgrade=yes || upgrade=no
    "$RUDDER" rollback "$rel" 1 -n "$ns" --timeout "$TIMEOUT" >/dev/null 2>&1 && rollback=yes || rollback=no
  else
    diff=- upgrade=- rollback=-
  fi
  "$RUDDER" uninstall "$rel" -n "$ns" --wait --timeout 60s >/dev/null 2>&1 && uninstall=yes || uninstall=no
  [[ $install == no ]] && uninstall=-
  rm -f "$log"
  printf '| %s | %s | %s | %s | %s | %s | %s | %.1f s | %s |\n' "$chart" "$install" "$ready" "$diff" "$upgrade" \
    "$rollback" "$uninstall" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')" "$why"
}
export -f one
export CORPUS RUDDER TIMEOUT

charts=("$@")
((${#charts[@]})) || mapfile -t charts < <(ls "$CORPUS/charts")
echo "| chart | install | ready | diff empty | upgrade | rollback | uninstall | time | note |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${charts[@]}" | xargs -P "${JOBS:-2}" -I{} bash -c 'one {}' | sort
