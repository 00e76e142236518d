#!/usr/bin/env bash
# The control plane itself, run by start.sh inside a network namespace of its own (unshare -n):
# only a loopback device, so nothing here is reachable from outside, whatever a piece binds
# (Argo CD's controller metrics port listens on all interfaces and has no address flag).
# The API server is relayed out through a Unix socket ($state/api.sock). Each piece runs by PID;
# the first one that does not come up stops everything, with its reason in $state/failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="$1"
source "$here/versions.env"
root="${AEROGRID_HOME:-$HOME/.aerogrid}/k8s"
K="$root/kubernetes-$KUBERNETES_VERSION/bin"
A="$root/argocd-$ARGOCD_VERSION"
W="$root/kwok-$KWOK_VERSION"
E="$root/etcd-$ETCD_VERSION/bin"
pki="$state/pki" logs="$state/logs" kc="$state/kubeconfig.inside"
mkdir -p "$logs" "$state/pids"
pids=()

fail() { echo "$*" > "$state/failed"; echo "[k8s:start] FAILED: $*" >&2; stop_all; exit 1; }
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'stop_all; exit 0' TERM INT

# run <name> <command...>: start a piece in the background, log to logs/<name>.log.
run() {
  local name="$1"; shift
  "$@" >"$logs/$name.log" 2>&1 &
  local pid=$!; pids+=("$pid"); echo "$pid" > "$state/pids/$name"
}
alive() { kill -0 "$(cat "$state/pids/$1")" 2>/dev/null; }
# until <name> <seconds> <test...>: wait for a piece, failing fast when it exits.
until_up() {
  local name="$1" limit="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || fail "$name exited: $(tail -n 5 "$logs/$name.log" | tr '\n' ' ')"
    [ $SECONDS -lt $deadline ] || fail "$name did not come up in ${limit} s: $(tail -n 5 "$logs/$name.log" | tr '\n' ' ')"
    sleep 0.3
  done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
kubectl_() { kubectl --kubeconfig "$kc" "$@"; }
step() { echo "[k8s:start +$((SECONDS))s] $*" >&2; }

ip link set lo up
# The API server advertises a non-loopback address (Endpoints refuse 127.0.0.0/8); it stays on lo.
ip addr add 10.255.255.1/32 dev lo

step "etcd"
run etcd "$E/etcd" --name aerogrid --data-dir "$state/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster aerogrid=http://127.0.0.1:2380 --unsafe-no-fsync
until_up etcd 30 port_open 2379

step "kube-apiserver"
# --allow-privileged=true as in real clusters (node agents need it): in tenant namespaces it is Pod
# Security "restricted" that refuses a privileged pod, which is what the tests check.
run kube-apiserver "$K/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
  --bind-address 127.0.0.1 --advertise-address 10.255.255.1 --secure-port 6443 \
  --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --allow-privileged=true \
  --cert-dir "$pki" --profiling=false
until_up kube-apiserver 90 kubectl_ get --raw /readyz
run relay-api node "$here/relay.mjs" unix-to-tcp "$state/api.sock" 127.0.0.1:6443

step "kube-controller-manager, kube-scheduler"
run kube-controller-manager "$K/kube-controller-manager" --kubeconfig "$kc" --bind-address 127.0.0.1 \
  --leader-elect=false --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
  --use-service-account-credentials=false --profiling=false
run kube-scheduler "$K/kube-scheduler" --kubeconfig "$kc" --bind-address 127.0.0.1 --leader-elect=false --profiling=false

# The CRDs take the longest (Istio's are large): applied in the background while the rest starts.
step "CRDs (Argo CD, Istio, Gateway API) in the background; Argo CD's settings, a fake node"
( kubectl_ apply --server-side --force-conflicts -f "$A/crds/" -f "$root/istio-crds-$ISTIO_API_VERSION/istio-crds.yaml" \
    -f "$root/gateway-api-$GATEWAY_API_VERSION/" && kubectl_ wait --for condition=established --timeout=90s crd --all ) >"$logs/crds.log" 2>&1 &
crds=$!
kubectl_ apply --server-side -f "$here/cluster-base.yaml" >"$logs/base.log" 2>&1 || fail "Argo CD's settings were refused: $(tail -n 3 "$logs/base.log")"

step "kwok (fake kubelets)"
stages=(); for f in "$W"/stages/*.yaml; do stages+=(--config "$f"); done
# No container runs, so no container writes logs: kwok's kubelet API serves this one file as the
# log of every container (a stand-in), so that `kubectl logs` goes the real way, API server to node.
cat > "$state/pod-logs.yaml" <<YAML
kind: ClusterLogs
apiVersion: kwok.x-k8s.io/v1alpha1
metadata: {name: every-container}
spec:
  logs:
    - logsFile: $state/pod.log
YAML
# In the CRI log format (time, stream, tag, text), which kwok parses as a kubelet does.
echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) stdout F kwok stand-in: no container runs here; this line is what the node serves as every container's log" > "$state/pod.log"
run kwok "$W/bin/kwok" --kubeconfig "$kc" --manage-single-node kwok-node-0 \
  --node-ip 10.255.255.1 --node-port 10250 --server-address 10.255.255.1:10250 \
  --tls-cert-file "$pki/kwok.crt" --tls-private-key-file "$pki/kwok.key" \
  --config "$state/pod-logs.yaml" "${stages[@]}"
run redis redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --protected-mode yes

until_up kwok 60 bash -c "kubectl --kubeconfig '$kc' get node kwok-node-0 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
until_up redis 20 port_open 6379

step "Argo CD repo-server, application-controller, applicationset-controller"
cfg="$state/argocd-config"; mkdir -p "$cfg/tls" "$cfg/ssh" "$cfg/gpg/source" "$cfg/gpg/keys" "$cfg/cmp"
export ARGOCD_FAKE_IN_CLUSTER=true KUBECONFIG="$kc" ARGOCD_GPG_ENABLED=false \
  ARGOCD_TLS_DATA_PATH="$cfg/tls" ARGOCD_SSH_DATA_PATH="$cfg/ssh" ARGOCD_GPG_DATA_PATH="$cfg/gpg/source" \
  ARGOCD_GNUPGHOME="$cfg/gpg/keys" ARGOCD_PLUGINSOCKFILEPATH="$cfg/cmp" \
  PATH="$root/kustomize-$KUSTOMIZE_VERSION/bin:$PATH" HOME="$state/home"
mkdir -p "$HOME"
run argocd-repo-server env ARGOCD_BINARY_NAME=argocd-repo-server ARGOCD_ASK_PASS_SOCK="$state/reposerver-ask-pass.sock" "$A/bin/argocd-repo-server" \
  --port 8081 --metrics-port 8084 --redis 127.0.0.1:6379 --address 127.0.0.1 --loglevel warn
until_up argocd-repo-server 60 port_open 8081
wait "$crds" || fail "the CRDs were refused: $(tail -n 3 "$logs/crds.log")"
step "CRDs established"
kubectl_ apply --server-side -f "$here/argocd-project.yaml" >>"$logs/base.log" 2>&1 || fail "Argo CD's default project was refused: $(tail -n 3 "$logs/base.log")"
# STAND-IN for a Gateway controller: marks Gateways and HTTPRoutes Accepted (nothing routes).
run gateway-stand-in node "$here/gateway-stand-in.mjs" "$state"
run argocd-application-controller env ARGOCD_BINARY_NAME=argocd-application-controller "$A/bin/argocd-application-controller" --redis 127.0.0.1:6379 \
  --repo-server 127.0.0.1:8081 --metrics-port 8082 --app-resync 10 --self-heal-timeout-seconds 2 --loglevel warn
run argocd-applicationset-controller env ARGOCD_BINARY_NAME=argocd-applicationset-controller ARGOCD_ASK_PASS_SOCK="$state/appset-ask-pass.sock" "$A/bin/argocd-applicationset-controller" \
  --argocd-repo-server 127.0.0.1:8081 --metrics-addr 127.0.0.1:8085 --probe-addr 127.0.0.1:8086 \
  --webhook-addr 127.0.0.1:7000 --loglevel warn
until_up argocd-application-controller 60 port_open 8082
until_up argocd-applicationset-controller 60 port_open 8086

step "ready"
touch "$state/ready"
# Supervise: the first piece that exits stops everything.
while true; do
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok redis argocd-repo-server argocd-application-controller argocd-applicationset-controller relay-api gateway-stand-in; do
    alive "$name" || { rm -f "$state/ready"; fail "$name exited: $(tail -n 5 "$logs/$name.log" | tr '\n' ' ')"; }
  done
  sleep 1
done
