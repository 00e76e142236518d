#!/usr/bin/env bash
# Starts the local control plane built by build.sh: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok, redis and Argo CD's repo-server, application-controller and
# applicationset-controller, by PID, inside a network namespace of their own (loopback only).
# The API server is relayed to 127.0.0.1:<free port> on this machine; the kubeconfig for it is
# written to $state/kubeconfig. Stops with the reason when a piece does not come up.
#   start.sh [state-dir]   (default: $AEROGRID_HOME/k8s/run); stop.sh [state-dir] stops it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.env"
root="${AEROGRID_HOME:-$HOME/.aerogrid}/k8s"
state="${1:-$root/run}"
fail() { echo "[k8s:start] FAILED: $*" >&2; exit 1; }

for piece in "kubernetes-$KUBERNETES_VERSION" "argocd-$ARGOCD_VERSION" "kwok-$KWOK_VERSION" "etcd-$ETCD_VERSION" "kustomize-$KUSTOMIZE_VERSION" "istio-crds-$ISTIO_API_VERSION" "gateway-api-$GATEWAY_API_VERSION"; do
  [ -f "$root/$piece/.complete" ] || fail "$piece is not built in $root (fix: npm run k8s:build; the first build takes 25-40 minutes)"
done
for tool in redis-server openssl unshare ip kubectl node git; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (fix: apt-get install redis-server openssl util-linux iproute2 git, and kubectl)"
done
[ -f "$state/pids/netns" ] && kill -0 "$(cat "$state/pids/netns")" 2>/dev/null && fail "a control plane already runs from $state (fix: bash $here/stop.sh $state)"
rm -rf "$state"; mkdir -p "$state/pki" "$state/pids" "$state/logs"
started=$SECONDS

# Certificates: a CA, the API server's serving certificate, an admin client, the service-account key.
pki="$state/pki"
(
  cd "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=aerogrid-local-ca
  openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:10.255.255.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile apiserver.ext -out apiserver.crt
  openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj '/O=system:masters/CN=aerogrid-admin'
  printf 'extendedKeyUsage=clientAuth\n' > admin.ext
  openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile admin.ext -out admin.crt
  # kwok's kubelet API (logs), which the API server calls on the node's address.
  openssl req -newkey rsa:2048 -nodes -keyout kwok.key -out kwok.csr -subj /CN=kwok-node-0
  printf 'subjectAltName=IP:10.255.255.1\nextendedKeyUsage=serverAuth\n' > kwok.ext
  openssl x509 -req -in kwok.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile kwok.ext -out kwok.crt
  openssl genrsa -out sa.key 2048
  openssl rsa -in sa.key -pubout -out sa.pub
) >"$state/logs/pki.log" 2>&1 || fail "openssl could not make the certificates: $(tail -n 3 "$state/logs/pki.log")"

# kubeconfig <file> <server>: the admin's, with namespace argocd (what Argo CD's controllers expect).
kubeconfig() {
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: aerogrid-local
  cluster: {server: "$2", certificate-authority: "$pki/ca.crt"}
users:
- name: aerogrid-admin
  user: {client-certificate: "$pki/admin.crt", client-key: "$pki/admin.key"}
contexts:
- name: aerogrid-local
  context: {cluster: aerogrid-local, user: aerogrid-admin, namespace: argocd}
current-context: aerogrid-local
KC
}
kubeconfig "$state/kubeconfig.inside" https://127.0.0.1:6443

echo "[k8s:start] starting the control plane in its own network namespace (logs: $state/logs)" >&2
setsid unshare -n -- bash "$here/netns.sh" "$state" >"$state/logs/netns.log" 2>&1 < /dev/null &
echo $! > "$state/pids/netns"
# The API server, relayed from the namespace's Unix socket to loopback here.
setsid node "$here/relay.mjs" tcp-to-unix 127.0.0.1:0 "$state/api.sock" "$state/api.port" >"$state/logs/relay.log" 2>&1 < /dev/null &
echo $! > "$state/pids/relay"

deadline=$((SECONDS + ${AEROGRID_K8S_START_TIMEOUT:-180}))
until [ -f "$state/ready" ]; do
  if [ -f "$state/failed" ] || ! kill -0 "$(cat "$state/pids/netns")" 2>/dev/null; then
    reason="$(cat "$state/failed" 2>/dev/null || tail -n 5 "$state/logs/netns.log")"
    bash "$here/stop.sh" "$state" >/dev/null 2>&1 || true
    fail "$reason"
  fi
  if [ $SECONDS -ge $deadline ]; then
    bash "$here/stop.sh" "$state" >/dev/null 2>&1 || true
    fail "not ready after $((SECONDS - started)) s; last step: $(grep '^\[k8s:start' "$state/logs/netns.log" | tail -n 1)"
  fi
  sleep 0.3
done
[ -f "$state/api.port" ] || fail "the API relay did not start: $(cat "$state/logs/relay.log")"
kubeconfig "$state/kubeconfig" "https://127.0.0.1:$(cat "$state/api.port")"
echo "[k8s:start] ready in $((SECONDS - started)) s; KUBECONFIG=$state/kubeconfig" >&2
