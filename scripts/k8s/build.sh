#!/usr/bin/env bash
# Builds the local Kubernetes control plane the cluster tests run on, from the Go module
# proxy, once: every piece is cached in $AEROGRID_HOME/k8s/<piece>-<version>/ (default
# ~/.aerogrid). Argo CD's redis comes from Debian (redis-server).
# The first build takes about 25-40 minutes on 2 cores and ~3.5 GB of disk (plus ~5 GB of Go
# build cache that `go clean -cache` frees); later runs return at once.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
root="${AEROGRID_HOME:-$HOME/.aerogrid}/k8s"
mkdir -p "$root"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
# Low priority, one package at a time, so a developer's machine stays usable while it builds; under
# CI nothing else runs, so every core (AEROGRID_K8S_BUILD_JOBS sets it either way).
jobs="${AEROGRID_K8S_BUILD_JOBS:-$([ -n "${CI:-}" ] && nproc || echo 1)}"
gobuild() { nice -n 19 go build -p "$jobs" -trimpath "$@"; }
log() { echo "[k8s:build $(date +%H:%M:%S)] $*"; }
fail() { echo "[k8s:build] FAILED: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go is not installed (fix: install Go >= 1.25)"

# Runs "$2..." to fill $root/$1 unless it is already complete; a half-built piece is redone.
piece() {
  local name="$1"; shift
  local dir="$root/$name"
  if [ -f "$dir/.complete" ]; then log "$name: cached in $dir"; return; fi
  rm -rf "$dir.partial"; mkdir -p "$dir.partial"
  local start=$SECONDS
  # A subshell outside `||`, so `set -e` still stops the builder at its first error.
  set +e; ( set -e; "$@" "$dir.partial" ); local rc=$?; set -e
  [ "$rc" = 0 ] || fail "$name did not build (see the lines above)"
  touch "$dir.partial/.complete"; rm -rf "$dir"; mv "$dir.partial" "$dir"
  log "$name: done in $((SECONDS - start)) s -> $dir"
}

# Directory of a module in the Go module cache (downloading it if needed).
moddir() { go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p'; }
modfile() { go mod download -json "$1" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p'; }

# A scratch module to build from: own go.mod, so k8s.io/kubernetes can be a dependency.
scratch() { local d; d="$(mktemp -d "$root/.work-XXXXXX")"; (cd "$d" && go mod init aerogrid.local/k8s-build >/dev/null 2>&1); echo "$d"; }

build_kubernetes() {
  local out="$1" w; w="$(scratch)"
  log "kubernetes $KUBERNETES_VERSION: resolving modules (a few minutes on a cold module cache)"
  local gomod; gomod="$(cd "$w" && modfile "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  [ -n "$gomod" ] || fail "could not download k8s.io/kubernetes@$KUBERNETES_VERSION"
  # Kubernetes' own go.mod points its staging modules at ./staging; use the published ones.
  local n=0
  for m in $(sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"); do
    (cd "$w" && go mod edit -replace "$m=$m@$KUBERNETES_STAGING_VERSION"); n=$((n + 1))
  done
  log "kubernetes: replaced $n staging modules with $KUBERNETES_STAGING_VERSION"
  (cd "$w" && nice -n 19 go get -tool \
     "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
     "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
     "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION")
  local minor; minor="$(echo "$KUBERNETES_VERSION" | cut -d. -f2)"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  mkdir -p "$out/bin"
  log "kubernetes: building kube-apiserver (the longest step: ~8 min, 1.8 GB memory)"
  (cd "$w" && gobuild -ldflags "$ld" -o "$out/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  log "kubernetes: building kube-controller-manager (~2 min)"
  (cd "$w" && gobuild -ldflags "$ld" -o "$out/bin/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager)
  log "kubernetes: building kube-scheduler"
  (cd "$w" && gobuild -ldflags "$ld" -o "$out/bin/kube-scheduler" k8s.io/kubernetes/cmd/kube-scheduler)
  rm -rf "$w"
}

# etcd from the module proxy, not Debian's 3.4: without watch progress requests (3.5.13+) the API
# server cannot serve streaming watches, so kwok and the controllers see a new pod only at their
# next relist, 20-40 s later.
build_etcd() {
  local out="$1" w; w="$(scratch)"
  log "etcd $ETCD_VERSION: building (~1 min)"
  (cd "$w" && nice -n 19 go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION")
  mkdir -p "$out/bin"
  (cd "$w" && gobuild -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$w"
}

build_argocd() {
  local out="$1" w; w="$(scratch)"
  local mod="github.com/argoproj/argo-cd/v3"
  log "argocd $ARGOCD_VERSION: resolving modules"
  local gomod; gomod="$(cd "$w" && modfile "$mod@$ARGOCD_VERSION")"
  [ -n "$gomod" ] || fail "could not download $mod@$ARGOCD_VERSION"
  # Argo CD pins k8s.io/* and a few others through its own replace block: copy it.
  sed -n '/^replace (/,/^)/p' "$gomod" >> "$w/go.mod"
  (cd "$w" && nice -n 19 go get -tool "$mod/cmd@$ARGOCD_VERSION")
  mkdir -p "$out/bin"
  log "argocd: building the multi-call binary (~12 min, 2 GB memory)"
  (cd "$w" && gobuild -ldflags "-s -w -X $mod/common.version=${ARGOCD_VERSION#v}" -o "$out/bin/argocd" "$mod/cmd")
  # The component is chosen by the name the binary is run as.
  for c in argocd-application-controller argocd-applicationset-controller argocd-repo-server; do
    ln -sf argocd "$out/bin/$c"
  done
  mkdir -p "$out/crds"
  cp "$(cd "$w" && moddir "$mod@$ARGOCD_VERSION")"/manifests/crds/*-crd.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  rm -rf "$w"
}

build_kwok() {
  local out="$1"
  log "kwok $KWOK_VERSION: building (~2 min)"
  mkdir -p "$out/bin" "$out/stages"
  GOBIN="$out/bin" nice -n 19 go install -p "$jobs" -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok exits with "no stages found" without stage configs; its module ships them.
  local d; d="$(cd "$root" && moddir "sigs.k8s.io/kwok@$KWOK_VERSION")"
  local kind_set f
  for kind_set in node/fast node/heartbeat pod/fast; do
    for f in "$d/kustomize/stage/$kind_set"/*.yaml; do
      [ "$(basename "$f")" = kustomization.yaml ] && continue
      cp "$f" "$out/stages/${kind_set//\//-}-$(basename "$f")"
    done
  done
  chmod -R u+w "$out/stages"
}

build_kustomize() {
  local out="$1"
  log "kustomize $KUSTOMIZE_VERSION: building (~1 min)"
  mkdir -p "$out/bin"
  GOBIN="$out/bin" nice -n 19 go install -p "$jobs" -trimpath -ldflags "-s -w" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
}

fetch_istio_crds() {
  local out="$1"; log "istio CRDs $ISTIO_API_VERSION"
  cp "$(cd "$root" && moddir "istio.io/api@$ISTIO_API_VERSION")/kubernetes/customresourcedefinitions.gen.yaml" "$out/istio-crds.yaml"
  chmod u+w "$out/istio-crds.yaml"
}

fetch_gateway_crds() {
  local out="$1"; log "Gateway API CRDs $GATEWAY_API_VERSION"
  cp "$(cd "$root" && moddir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"/config/crd/standard/*.yaml "$out/"
  chmod -R u+w "$out"; rm -f "$out/kustomization.yaml"
}

total=$SECONDS
log "building the local control plane into $root"
log "the FIRST build takes about 25-40 minutes (2 cores, low priority); later runs are instant"
piece "istio-crds-$ISTIO_API_VERSION" fetch_istio_crds
piece "gateway-api-$GATEWAY_API_VERSION" fetch_gateway_crds
piece "kustomize-$KUSTOMIZE_VERSION" build_kustomize
piece "kwok-$KWOK_VERSION" build_kwok
piece "etcd-$ETCD_VERSION" build_etcd
piece "kubernetes-$KUBERNETES_VERSION" build_kubernetes
piece "argocd-$ARGOCD_VERSION" build_argocd
rm -rf "$root"/.work-*
log "all pieces ready in $((SECONDS - total)) s ($(du -sh "$root" | cut -f1) in $root)"
