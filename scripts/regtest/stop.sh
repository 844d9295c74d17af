#!/usr/bin/env bash
# Stops the regtest network start.sh started under DIR: the lnd nodes
# first, then btcd, each by its recorded pid, waiting up to 30 s each.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: stop.sh DIR" >&2; exit 2; }
DIR=$1
[ -f "$DIR/pids" ] || exit 0
# shellcheck disable=SC1091
. "$DIR/pids"

stop() {
	local pid=${1:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $deadline ]; then
			kill -9 "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
}
stop "${ALICE_PID:-}" &
stop "${BOB_PID:-}" &
wait
stop "${BTCD_PID:-}"
rm -f "$DIR/pids"
