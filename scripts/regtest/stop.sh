#!/usr/bin/env bash
# Stops the regtest network start.sh started under DIR: the lnd nodes
# first, then btcd, each by its recorded pid, waiting up to 30 s each
# (about 3.5 s in all). With --kill, for a network whose directory is
# about to be deleted, it kills them all at once instead.
set -uo pipefail

KILL=
if [ "${1:-}" = --kill ]; then
	KILL=1
	shift
fi
[ $# -eq 1 ] || { echo "usage: stop.sh [--kill] DIR" >&2; exit 2; }
DIR=$1
[ -f "$DIR/pids" ] || exit 0
# shellcheck disable=SC1091
. "$DIR/pids"

if [ -n "$KILL" ]; then
	for pid in ${ALICE_PID:-} ${BOB_PID:-} ${BTCD_PID:-}; do
		kill -9 "$pid" 2>/dev/null
	done
	rm -f "$DIR/pids"
	exit 0
fi

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
