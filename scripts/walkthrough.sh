#!/usr/bin/env bash
# walkthrough.sh shows two shardcast peers on loopback sharing a file: A adds
# it, B fetches it from A over bitswap, then B serves a Range from its
# gateway. Everything lives in a temporary directory removed at the end.
#
#   scripts/walkthrough.sh [SIZE_MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-64}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "Building shardcast"
go build -o "$work/shardcast" ./cmd/shardcast
sc() { "$work/shardcast" "$@"; }

start() { # start NAME: init a repo and run its daemon on loopback
	sc --repo "$work/$1" init >/dev/null 2>&1
	"$work/shardcast" --repo "$work/$1" daemon --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 \
		>"$work/$1.out" 2>"$work/$1.log" &
	pids+=($!)
	for _ in $(seq 1 600); do
		grep -q "daemon is ready" "$work/$1.out" 2>/dev/null && return
		sleep 0.1
	done
	echo "daemon $1 did not start:" >&2
	cat "$work/$1.log" >&2
	exit 1
}

say "Starting peers A and B"
start a
start b
echo "A is $(sc --repo "$work/a" id | head -1)"
echo "B is $(sc --repo "$work/b" id | head -1)"

say "A adds $size MiB of random bytes"
head -c "$((size << 20))" /dev/urandom >"$work/film.bin"
cid=$(sc --repo "$work/a" add "$work/film.bin")
echo "CID $cid"

say "B connects to A and fetches it"
sc --repo "$work/b" connect "$(sc --repo "$work/a" id | sed -n 2p)" >/dev/null
start_ns=$(date +%s%N)
sc --repo "$work/b" get "$cid" -o "$work/copy.bin"
ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
cmp "$work/film.bin" "$work/copy.bin"
echo "byte-identical, $size MiB in ${ms} ms"

say "B's gateway serves a Range from the middle"
gw=$(cat "$work/b/gateway")
mid=$(( (size << 20) / 2 ))
curl -s -o /dev/null -w "HTTP %{http_code}, %{size_download} bytes, first byte after %{time_starttransfer}s\n" \
	-r "$mid-$((mid + 65535))" "http://$gw/ipfs/$cid"
echo "try it: curl -r 0-99 http://$gw/ipfs/$cid | xxd | head   (until you press Enter)"
if [ -t 0 ]; then read -r _; fi
say "Done"
