#!/usr/bin/env bash
# Stops the control plane start.sh started from <state-dir> (default $AEROGRID_HOME/k8s/run), by
# the PIDs it recorded: the namespace's supervisor stops its pieces, then the relay.
set -uo pipefail
root="${AEROGRID_HOME:-$HOME/.aerogrid}/k8s"
state="${1:-$root/run}"
stop_pid() {
  local file="$state/pids/$1" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop_pid netns
# Whatever the supervisor could not stop: the pieces by their own PIDs.
for f in "$state"/pids/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in netns|relay) ;; *) kill -KILL "$(cat "$f")" 2>/dev/null || true ;; esac
done
stop_pid relay
rm -f "$state/ready" "$state/api.sock"
echo "[k8s:stop] stopped the control plane of $state" >&2
