#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, built from published Go modules.
#
#   scripts/real-cluster.sh build                          build once into the cache (skips what is built)
#   scripts/real-cluster.sh up --kubeconfig PATH [--dir DIR] [--watch-pid PID]
#                                                          start etcd, kube-apiserver, kube-controller-manager,
#                                                          kube-scheduler and kwok (4 fake nodes); prints
#                                                          `real cluster ready: URL kubeconfig=PATH`
#   scripts/real-cluster.sh down [--dir DIR]               stop everything `up` started, remove its data
#   scripts/real-cluster.sh run [--kubeconfig PATH] [--dir DIR]
#                                                          build + up, in the foreground until Ctrl-C
#   scripts/real-cluster.sh bin NAME                       print the path of a built binary (e.g. helm)
#
# Environment: RUDDER_REAL_CACHE (default ~/.cache/rudder/real-cluster) holds the binaries, one folder per
# Kubernetes release. Everything listens on 127.0.0.1 on free ports. See docs/real-cluster.md.
set -euo pipefail

K8S_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
HELM_VERSION=v4.2.3
HELMFILE_VERSION=v1.8.0
HELM_DIFF_MODULE=github.com/databus23/helm-diff/v3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RUDDER_REAL_CACHE:-$HOME/.cache/rudder/real-cluster}/$K8S_VERSION
BIN=$CACHE/bin
DEFAULT_DIR=${TMPDIR:-/tmp}/rudder-real-cluster

log() { echo "real-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- build -----------------------------------------------------------------------------------------

# Runs a build step unless all of its outputs exist; prints how long it took.
step() {
  local name=$1 outputs=$2
  shift 2
  local missing=0 f
  for f in $outputs; do [[ -x $BIN/$f ]] || missing=1; done
  if ((missing == 0)); then
    log "$name: already built ($BIN)"
    return 0
  fi
  local start
  start=$(now)
  log "$name: building..."
  if "$@"; then
    log "$name: built in $(since "$start") s"
  else
    log "$name: FAILED after $(since "$start") s"
    return 1
  fi
}

build_control_plane() {
  # The version Kubernetes' own release build stamps in (kubectl and clients read it from /version).
  local minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  local v ldflags='-s -w'
  for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  done
  # One invocation, so the packages the four binaries share are compiled once.
  (cd "$ROOT/scripts/real-cluster" &&
    go build -mod=readonly -trimpath -ldflags="$ldflags" -o "$BIN/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      ./etcd)
}

build_kwok() {
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

build_helm() {
  GOBIN=$BIN go install -trimpath \
    -ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
}

# An optional tool: on failure its error is kept in $CACHE/NAME.error and the build goes on.
try_optional() {
  local name=$1
  shift
  if [[ -f $CACHE/$name.error ]]; then
    log "$name: not built earlier (remove $CACHE/$name.error to retry): $(grep -v '^go: downloading\|^real-cluster:' "$CACHE/$name.error" | tr -s '\n\t' '  ')"
    return 0
  fi
  if ! step "$name" "$name" "$@" 2>"$CACHE/$name.log"; then
    cp "$CACHE/$name.log" "$CACHE/$name.error"
    log "$name: not built: $(grep -v '^go: downloading\|^real-cluster:' "$CACHE/$name.error" | tr -s '\n\t' '  ')"
  else
    cat "$CACHE/$name.log" >&2
    rm -f "$CACHE/$name.log"
  fi
}

build_helm_diff() {
  # helm-diff is a Helm plugin: the binary plus a plugin.yaml under $HELM_PLUGINS/diff.
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "$HELM_DIFF_MODULE@latest" &&
    mv "$BIN/helm-diff" "$BIN/helm-diff.tmp" && mv "$BIN/helm-diff.tmp" "$BIN/helm-diff"
}

build_helmfile() {
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "github.com/helmfile/helmfile@$HELMFILE_VERSION"
}

# kwok's stages from its own module: fast node start, lease heartbeats, pods Ready at once, plus
# ours: a pod with an image tagged `fail` stays Pending with ImagePullBackOff (the convention of
# `rudder sandbox`, see crates/rudder-sandbox/src/controllers.rs), so `--wait` fails the same way on both.
write_kwok_stages() {
  local dir
  dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  [[ -d $dir ]] || die "kwok $KWOK_VERSION is not in the module cache"
  local s=$dir/kustomize/stage
  local fails='[(.spec.containers // [])[], (.spec.initContainers // [])[] | .image | endswith(":fail")] | any'
  {
    cat "$s/node/fast/node-initialize.yaml"
    echo "---"
    cat "$s/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"
    echo "---"
    # pod-ready, narrowed to pods with no failing image.
    awk -v key="$fails" '
      { print }
      /^    matchExpressions:$/ && !done {
        print "    - key: '\''" key "'\''"
        print "      operator: '\''NotIn'\''"
        print "      values:"
        print "      - '\''true'\''"
        done = 1
      }' "$s/pod/fast/pod-ready.yaml"
    echo "---"
    cat "$s/pod/fast/pod-complete.yaml"
    echo "---"
    cat "$s/pod/fast/pod-delete.yaml"
    echo "---"
    cat <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-image-pull-backoff
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '$fails'
      operator: 'In'
      values:
      - 'true'
    - key: '.status.containerStatuses.[].state.waiting.reason'
      operator: 'NotIn'
      values:
      - 'ImagePullBackOff'
  next:
    statusTemplate: |
      {{ \$now := Now }}
      conditions:
      - lastTransitionTime: {{ \$now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ \$now | Quote }}
        message: "containers with unready status: [{{ range .spec.containers }}{{ .name }} {{ end }}]"
        reason: ContainersNotReady
        status: "False"
        type: Ready
      - lastTransitionTime: {{ \$now | Quote }}
        message: "containers with unready status: [{{ range .spec.containers }}{{ .name }} {{ end }}]"
        reason: ContainersNotReady
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          waiting:
            message: {{ printf "Back-off pulling image %q" .image | Quote }}
            reason: ImagePullBackOff
      {{ end }}
      phase: Pending
      startTime: {{ \$now | Quote }}
EOF
  } >"$CACHE/kwok-stages.yaml.tmp"
  mv "$CACHE/kwok-stages.yaml.tmp" "$CACHE/kwok-stages.yaml"
}

cmd_build() {
  command -v go >/dev/null || die "go is not installed (Go 1.26 and its module proxy are needed)"
  mkdir -p "$BIN"
  local start
  start=$(now)
  log "building into $CACHE ($(go version | awk '{print $3}'), $(nproc) cores)"
  # A binary from before the version stamp reads `v0.0.0-master`: build again.
  if [[ -x $BIN/kube-apiserver && $("$BIN/kube-apiserver" --version 2>/dev/null) != "Kubernetes $K8S_VERSION" ]]; then
    rm -f "$BIN/kube-apiserver" "$BIN/kube-controller-manager" "$BIN/kube-scheduler"
  fi
  step "kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION + etcd (one go build)" \
    "kube-apiserver kube-controller-manager kube-scheduler etcd" build_control_plane
  step "kwok $KWOK_VERSION" kwok build_kwok
  step "helm $HELM_VERSION" helm build_helm
  [[ -f $CACHE/kwok-stages.yaml ]] || write_kwok_stages
  try_optional helm-diff build_helm_diff
  try_optional helmfile build_helmfile
  log "build done in $(since "$start") s; binaries: $(cd "$BIN" && ls | tr '\n' ' ')"
}

# --- up / down -------------------------------------------------------------------------------------

free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

make_pki() {
  local pki=$1
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/CN=rudder-real-cluster-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt \
      -days 30 -extfile apiserver.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    # A static bearer token for an administrator (system:masters); every client uses it.
    openssl rand -hex 24 >admin.token
    printf '%s,admin,admin,"system:masters"\n' "$(cat admin.token)" >tokens.csv
  )
}

write_kubeconfig() {
  local path=$1 url=$2 pki=$3
  mkdir -p "$(dirname "$path")"
  cat >"$path.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: rudder-real
  cluster:
    server: $url
    certificate-authority-data: $(base64 -w0 <"$pki/ca.crt")
users:
- name: admin
  user:
    token: $(cat "$pki/admin.token")
contexts:
- name: rudder-real
  context:
    cluster: rudder-real
    user: admin
    namespace: default
current-context: rudder-real
EOF
  mv "$path.tmp" "$path"
}

# curl against the apiserver as the administrator.
api() {
  curl -sS --max-time 10 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $(cat "$DIR/pki/admin.token")" "$@"
}

start() {
  local name=$1
  shift
  # setsid: Ctrl-C in a terminal reaches `run`'s trap, which stops everything in order.
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo "$name $!" >>"$DIR/pids"
}

# Waits until CMD succeeds, up to SECONDS, while COMPONENT runs; on failure shows its log's tail.
wait_for() {
  local what=$1 seconds=$2 component=$3
  shift 3
  local logfile=$DIR/logs/$component.log pid
  pid=$(awk -v n="$component" '$1 == n { print $2 }' "$DIR/pids")
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    local why=""
    kill -0 "$pid" 2>/dev/null || why="$component exited"
    ((SECONDS < deadline)) || why="timed out after ${seconds}s"
    if [[ -n $why ]]; then
      log "$why waiting for $what; last lines of $logfile:"
      tail -n 15 "$logfile" >&2 || true
      cmd_down
      exit 1
    fi
    sleep 0.2
  done
}

alive() {
  [[ -f $DIR/pids ]] || return 1
  local name pid
  while read -r name pid; do kill -0 "$pid" 2>/dev/null && return 0; done <"$DIR/pids"
  return 1
}

readyz() { [[ $(api "$URL/readyz") == ok ]]; }
default_sa() { api -f "$URL/api/v1/namespaces/default/serviceaccounts/default"; }
nodes_ready() {
  [[ $(api "$URL/api/v1/nodes" | grep -c '"type": "Ready"' || true) -ge 4 ]] &&
    ! api "$URL/api/v1/nodes" | grep -A1 '"type": "Ready"' | grep -q '"status": "False"\|"status": "Unknown"'
}

create_node() {
  api -f -X POST -H 'Content-Type: application/json' "$URL/api/v1/nodes" -d @- <<EOF
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$1", "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
              "labels": {"type": "kwok", "kubernetes.io/hostname": "$1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
 "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "ephemeral-storage": "1Ti", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "256Gi", "ephemeral-storage": "1Ti", "pods": "110"},
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "fake", "kubeProxyVersion": "fake"}}}
EOF
}

parse_args() {
  KUBECONFIG_OUT=""
  DIR=$DEFAULT_DIR
  WATCH_PID=""
  while (($#)); do
    case $1 in
      --kubeconfig) KUBECONFIG_OUT=${2:?--kubeconfig needs a path}; shift 2 ;;
      --dir) DIR=${2:?--dir needs a path}; shift 2 ;;
      --watch-pid) WATCH_PID=${2:?--watch-pid needs a process id}; shift 2 ;;
      *) die "unknown argument $1 (see the top of $0)" ;;
    esac
  done
}

cmd_up() {
  parse_args "$@"
  [[ -n $KUBECONFIG_OUT ]] || die "up needs --kubeconfig PATH"
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    [[ -x $BIN/$b ]] || die "$BIN/$b is missing: run \`$0 build\` first"
  done
  [[ -f $CACHE/kwok-stages.yaml ]] || die "$CACHE/kwok-stages.yaml is missing: run \`$0 build\` first"
  if alive; then die "a real cluster is already running from $DIR: run \`$0 down --dir $DIR\` first"; fi
  if [[ -e $DIR && ! -f $DIR/.real-cluster ]] && [[ -n $(ls -A "$DIR") ]]; then
    die "$DIR is not empty and is not a real-cluster folder: choose another --dir"
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR/logs" "$DIR/etcd"
  touch "$DIR/.real-cluster"
  KUBECONFIG_OUT=$(cd "$(dirname "$KUBECONFIG_OUT")" 2>/dev/null && pwd)/$(basename "$KUBECONFIG_OUT") ||
    die "the folder of --kubeconfig does not exist"
  local t0
  t0=$(now)
  make_pki "$DIR/pki"
  local pki=$DIR/pki
  # shellcheck disable=SC2046
  set -- $(free_ports 5)
  local etcd_port=$1 peer_port=$2 api_port=$3 kcm_port=$4 sched_port=$5
  URL=https://127.0.0.1:$api_port
  echo "$URL" >"$DIR/url"

  start etcd "$BIN/etcd" --name rudder --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "rudder=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn

  # The audit log counts requests per client (bench: requests of rudder and helm).
  cat >"$DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
EOF
  start kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --endpoint-reconciler-type none \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
    --authorization-mode RBAC --allow-privileged=true \
    --service-cluster-ip-range 10.0.0.0/24 \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --audit-log-path "$DIR/logs/audit.log" --audit-policy-file "$DIR/audit-policy.yaml" \
    --audit-log-maxsize 200
  write_kubeconfig "$DIR/admin.kubeconfig" "$URL" "$pki"
  wait_for "kube-apiserver /readyz" 60 kube-apiserver readyz

  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig "$DIR/admin.kubeconfig" --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --controllers '*' --node-monitor-grace-period 60s --enable-hostpath-provisioner
  start kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig "$DIR/admin.kubeconfig" --bind-address 127.0.0.1 --secure-port "$sched_port" \
    --leader-elect=false
  start kwok "$BIN/kwok" --kubeconfig "$DIR/admin.kubeconfig" --config "$CACHE/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.1/16 --node-ip 127.0.0.1

  # The default StorageClass, served by the controller manager's hostPath provisioner (meant for
  # tests): volume claims bind, so StatefulSets with claim templates schedule and become ready.
  api -f -X POST -H 'Content-Type: application/json' "$URL/apis/storage.k8s.io/v1/storageclasses" -d @- >/dev/null <<'EOF'
{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
 "metadata": {"name": "standard", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
 "provisioner": "kubernetes.io/host-path", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}
EOF
  # Four nodes: charts with required pod anti-affinity (redis-ha: 3 replicas) need 3.
  local n
  for n in 0 1 2 3; do create_node "kwok-node-$n" >/dev/null; done
  wait_for "the default service account" 60 kube-controller-manager default_sa
  wait_for "4 Ready kwok nodes" 60 kwok nodes_ready

  if [[ -n $WATCH_PID ]]; then
    # A watchdog: when the process that asked for this cluster is gone (even killed), stop it all.
    (
      exec </dev/null >/dev/null 2>&1
      while kill -0 "$WATCH_PID" 2>/dev/null && [[ -f $DIR/pids ]]; do sleep 1; done
      [[ -f $DIR/pids ]] && "$0" down --dir "$DIR"
    ) &
    disown
  fi

  write_kubeconfig "$KUBECONFIG_OUT" "$URL" "$pki"
  log "started in $(since "$t0") s (logs in $DIR/logs)"
  echo "real cluster ready: $URL kubeconfig=$KUBECONFIG_OUT"
}

cmd_down() {
  [[ -n ${DIR:-} ]] || parse_args "$@"
  [[ -f $DIR/pids ]] || { log "nothing running from $DIR"; return 0; }
  local name pid pids=()
  # Reverse order: clients first, etcd last.
  while read -r name pid; do pids=("$pid" "${pids[@]}"); done <"$DIR/pids"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 5))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
  log "stopped"
}

cmd_run() {
  parse_args "$@"
  local kc=${KUBECONFIG_OUT:-$DIR.kubeconfig}
  cmd_build
  trap 'cmd_down; exit 0' INT TERM
  cmd_up --kubeconfig "$kc" --dir "$DIR"
  log "try: KUBECONFIG=$kc rudder install web charts/web --wait   (Ctrl-C stops the cluster)"
  while alive; do sleep 1; done
  log "a component exited; see its log above"
  cmd_down
  exit 1
}

case ${1:-} in
  build) shift; cmd_build "$@" ;;
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  run) shift; cmd_run "$@" ;;
  bin) [[ -x $BIN/${2:-} ]] || die "${2:-?} is not built: run \`$0 build\`"; echo "$BIN/$2" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
