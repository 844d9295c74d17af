#!/usr/bin/env bash
# bench.sh measures shardcast's transfers side by side with their anchors, in
# one run on one file of random bytes, all on 127.0.0.1:
#
#   1. import:  shardcast add FILE           vs Kubo `ipfs add -Q FILE` (defaults)
#   2. fetch from one peer, by a node with an empty store:
#               shardcast get CID > /dev/null vs Kubo `ipfs cat CID` (bitswap)
#                                            vs Go http.FileServer + curl
#   4. encrypted import: shardcast publish --model pay (age + UnixFS + store)
#               vs Kubo's plaintext `ipfs add`
#   5. seek in an encrypted film: time to first byte of a 1 MiB Range at the
#      middle through /watch on a fresh node that bought the film
#               vs Kubo's gateway on the plaintext (as in 3)
#   3. seek: time to first byte of a 1 MiB Range at the middle of the file,
#      through the gateway of a fresh node connected to the provider:
#               shardcast gateway             vs Kubo gateway (same plaintext)
#
# Each fetch runs once, on a node started for it. The source file stays in the
# page cache for every contender. MB is 10^6 bytes. Everything lives in a
# temporary directory removed at exit; every daemon is stopped at exit.
#
#   scripts/bench.sh [--size MiB] [--bin SHARDCAST] [--keep-going]
#
# --size   file size in MiB (default 1024)
# --bin    a shardcast binary to use instead of building one
set -euo pipefail

SIZE_MIB=1024
BIN=""
CMDLINE="$0${*:+ $*}"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE_MIB="${2:?--size needs a value}"; shift 2 ;;
	--size=*) SIZE_MIB="${1#*=}"; shift ;;
	--bin) BIN="${2:?--bin needs a value}"; shift 2 ;;
	--bin=*) BIN="${1#*=}"; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
case "$SIZE_MIB" in '' | *[!0-9]*) echo "bench: --size wants a whole number of MiB" >&2; exit 2 ;; esac
[ "$SIZE_MIB" -ge 2 ] || { echo "bench: --size must be at least 2 MiB" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZE=$((SIZE_MIB * 1024 * 1024))
RANGE_LEN=$((1024 * 1024))
MID=$((SIZE / 2))
DEADLINE_S=60 # for any daemon to come up or a peer to connect

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
for t in curl go awk sha256sum head; do command -v "$t" >/dev/null || die "needs $t"; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardcast-bench.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for DESC COMMAND...: poll COMMAND until it succeeds, for DEADLINE_S.
wait_for() {
	local desc=$1 end=$((SECONDS + DEADLINE_S))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || die "timed out after ${DEADLINE_S}s waiting for $desc"
		sleep 0.05
	done
}

# started PID LOG TEXT: true once LOG holds TEXT; fails the run if PID died.
started() {
	kill -0 "$1" 2>/dev/null || die "$(basename "$2" .log) exited: $(tail -n 3 "$2" | tr '\n' ' ')"
	grep -q "$3" "$2"
}

# stop PID: SIGTERM one daemon we started and wait for it.
stop() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# cpu PID: user+system CPU seconds the process has used so far.
TICK=$(getconf CLK_TCK)
cpu() { awk -v t="$TICK" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }

# timed OUTVAR OUTFILE COMMAND...: run COMMAND with stdout to OUTFILE, store
# its wall seconds in OUTVAR and its own CPU seconds in OUTVAR_cpu.
timed() {
	local var=$1 out=$2 t0 t1 st
	shift 2
	# Write back what earlier steps left dirty, so no step pays for another's.
	sync
	local c0 c1
	# $$ is this shell, which reaps COMMAND: its children's CPU grows by COMMAND's.
	c0=$(awk '{ printf "%d", ($16 + $17) }' "/proc/$$/stat")
	t0=$(date +%s%N)
	set +e
	"$@" >"$out" 2>"$WORK/err"
	st=$?
	set -e
	t1=$(date +%s%N)
	c1=$(awk '{ printf "%d", ($16 + $17) }' "/proc/$$/stat")
	[ "$st" -eq 0 ] || die "$* failed: $(tail -n 2 "$WORK/err" | tr '\n' ' ')"
	printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
	printf -v "${var}_cpu" '%s' "$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN { printf "%.2f", (b - a) / t }')"
}

mbps() { awk -v s="$SIZE" -v t="$1" 'BEGIN { printf "%.0f", s / 1e6 / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# ---------------------------------------------------------------- tools

if [ -z "$BIN" ]; then
	log "building shardcast"
	(cd "$ROOT" && go build -o "$WORK/shardcast" ./cmd/shardcast) || die "building shardcast failed"
	BIN="$WORK/shardcast"
fi
[ -x "$BIN" ] || die "$BIN is not an executable"
(cd "$ROOT" && go build -o "$WORK/httpserve" ./bench/transfer/httpserve) || die "building httpserve failed"
KUBO_DIR=$("$ROOT/scripts/tools.sh" kubo) || die "building Kubo failed"
IPFS="$KUBO_DIR/ipfs"
[ -x "$IPFS" ] || die "no Kubo at $IPFS"
export IPFS_TELEMETRY=off

log "writing $SIZE_MIB MiB of random bytes"
mkdir -p "$WORK/data"
FILE="$WORK/data/file.bin"
head -c "$SIZE" /dev/urandom >"$FILE" || die "writing the test file failed"
SUM=$(sha256sum <"$FILE" | cut -d' ' -f1) # also warms the page cache
LOAD0=$(cut -d' ' -f1 /proc/loadavg)

# checksum NAME COMMAND...: the bytes COMMAND prints must be the file's.
checksum() {
	local name=$1 got
	shift
	got=$("$@" 2>"$WORK/err" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$SUM" ] || die "$name returned bytes that differ from the file"
}

# ---------------------------------------------------------------- shardcast

sc() { "$BIN" --repo "$WORK/sc-$1" "${@:2}"; }

# sc_start NAME: init a repo and start its daemon; sets SC_PID_<NAME>.
sc_start() {
	local name=$1 log="$WORK/sc-$1.log"
	sc "$name" init >/dev/null 2>"$WORK/err" || die "shardcast init ($name) failed: $(tr '\n' ' ' <"$WORK/err")"
	"$BIN" --repo "$WORK/sc-$name" daemon --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 >"$log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	printf -v "SC_PID_$name" '%s' "$pid"
	wait_for "shardcast daemon $name" started "$pid" "$log" "daemon is ready"
	[ -s "$WORK/sc-$name/gateway" ] || die "shardcast daemon $name wrote no gateway file"
}

# sc_addr NAME: the peer's loopback TCP multiaddr with /p2p/.
sc_addr() {
	sc "$1" id --json | tr -d ' \n' | grep -o '"/ip4/127\.0\.0\.1/tcp/[0-9]*/p2p/[^"]*"' | head -n1 | tr -d '"'
}

log "shardcast: add"
sc_start prov
SC_PROV_ADDR=$(sc_addr prov)
[ -n "$SC_PROV_ADDR" ] || die "shardcast provider has no loopback TCP address"
c0=$(cpu "$SC_PID_prov")
timed sc_add "$WORK/out" sc prov add "$FILE"
sc_add_dcpu=$(awk -v a="$c0" -v b="$(cpu "$SC_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
SC_CID=$(tr -d '[:space:]' <"$WORK/out")
[ -n "$SC_CID" ] || die "shardcast add printed no CID"

log "shardcast: fetch $SC_CID from one peer"
sc_start get
[ "$(find "$WORK/sc-get" -type f -name '*.data' | wc -l)" -eq 0 ] || die "the fetching node's store is not empty"
sc get connect "$SC_PROV_ADDR" >/dev/null 2>"$WORK/err" || die "shardcast connect failed: $(tr '\n' ' ' <"$WORK/err")"
p0=$(cpu "$SC_PID_prov")
g0=$(cpu "$SC_PID_get")
timed sc_get /dev/null sc get get "$SC_CID"
sc_get_pcpu=$(awk -v a="$p0" -v b="$(cpu "$SC_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
sc_get_gcpu=$(awk -v a="$g0" -v b="$(cpu "$SC_PID_get")" 'BEGIN { printf "%.2f", b - a }')
# Fetched blocks are written behind the reader: wait for them to land.
stored_all() { [ "$(find "$WORK/sc-get" -type f -name '*.data' | wc -l)" -ge "$SIZE_MIB" ]; }
wait_for "the fetching node to store every block" stored_all
checksum "shardcast get" sc get cat "$SC_CID" # now from its own store
stop "$SC_PID_get"
rm -rf "$WORK/sc-get"

# range_ttfb URL: prints "seconds-to-first-byte total-seconds" of a 1 MiB
# Range at the middle, checking the answer is 206 with the right bytes.
range_ttfb() {
	local w
	w=$(curl -s -o "$WORK/range" -r "$MID-$((MID + RANGE_LEN - 1))" --max-time 120 \
		-w '%{http_code} %{time_starttransfer} %{time_total}' "$1") || die "Range request to $1 failed"
	set -- $w
	[ "$1" = 206 ] || die "Range request answered $1, want 206"
	cmp -s "$WORK/range" <(tail -c +$((MID + 1)) "$FILE" | head -c "$RANGE_LEN") ||
		die "Range request returned the wrong bytes"
	echo "$2 $3"
}

log "shardcast: Range at the middle through a fresh node's gateway"
sc_start seek
sc seek connect "$SC_PROV_ADDR" >/dev/null 2>"$WORK/err" || die "shardcast connect failed: $(tr '\n' ' ' <"$WORK/err")"
r=$(range_ttfb "http://$(cat "$WORK/sc-seek/gateway")/ipfs/$SC_CID")
read -r sc_ttfb sc_rtotal <<<"$r"
r=$(range_ttfb "http://$(cat "$WORK/sc-prov/gateway")/ipfs/$SC_CID")
read -r sc_ttfb_local _ <<<"$r"
stop "$SC_PID_seek"
rm -rf "$WORK/sc-seek"

log "shardcast: encrypted import (publish --model pay: age + UnixFS + store)"
c0=$(cpu "$SC_PID_prov")
timed sc_seal "$WORK/out" sc prov publish "$FILE" --model pay --price 1 --title bench
sc_seal_dcpu=$(awk -v a="$c0" -v b="$(cpu "$SC_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
SC_CAMP=$(tr -d '[:space:]' <"$WORK/out")
[ -n "$SC_CAMP" ] || die "shardcast publish printed no campaign ID"

log "shardcast: Range at the middle of the decrypted film through /watch on a fresh buyer"
sc_start watch
sc watch connect "$SC_PROV_ADDR" >/dev/null 2>"$WORK/err" || die "shardcast connect failed: $(tr '\n' ' ' <"$WORK/err")"
knows_campaign() { sc watch status "$SC_CAMP" >/dev/null 2>&1; }
wait_for "the buyer learning the campaign" knows_campaign
sc watch buy "$SC_CAMP" >/dev/null 2>"$WORK/err" || die "shardcast buy failed: $(tr '\n' ' ' <"$WORK/err")"
[ "$(find "$WORK/sc-watch" -type f -name '*.data' | wc -l)" -eq 0 ] || die "the buyer's store is not empty"
r=$(range_ttfb "http://$(cat "$WORK/sc-watch/gateway")/watch/$SC_CAMP")
read -r sc_wttfb sc_wtotal <<<"$r"
stop "$SC_PID_watch"
stop "$SC_PID_prov"
rm -rf "$WORK/sc-watch"

# ---------------------------------------------------------------- Kubo

ipfs_() { IPFS_PATH="$WORK/kubo-$1" "$IPFS" "${@:2}"; }

# kubo_start NAME: a private loopback Kubo node; sets KUBO_PID_<NAME>.
kubo_start() {
	local name=$1 log="$WORK/kubo-$1.log"
	ipfs_ "$name" init --profile=test >/dev/null 2>"$WORK/err" || die "ipfs init ($name) failed: $(tr '\n' ' ' <"$WORK/err")"
	ipfs_ "$name" config --json Bootstrap '[]' &&
		ipfs_ "$name" config Routing.Type none &&
		ipfs_ "$name" config --json Discovery.MDNS.Enabled false &&
		ipfs_ "$name" config --json Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]' &&
		ipfs_ "$name" config Addresses.API /ip4/127.0.0.1/tcp/0 &&
		ipfs_ "$name" config Addresses.Gateway /ip4/127.0.0.1/tcp/0 ||
		die "configuring Kubo ($name) failed"
	IPFS_PATH="$WORK/kubo-$name" "$IPFS" daemon >"$log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	printf -v "KUBO_PID_$name" '%s' "$pid"
	wait_for "Kubo daemon $name" started "$pid" "$log" "Daemon is ready"
}

kubo_addr() {
	ipfs_ "$1" id | tr -d ' \n' | grep -o '"/ip4/127\.0\.0\.1/tcp/[0-9]*/p2p/[^"]*"' | head -n1 | tr -d '"'
}

kubo_gateway() {
	sed -n 's|^Gateway server listening on /ip4/\(127\.0\.0\.1\)/tcp/\([0-9]*\).*|\1:\2|p' "$WORK/kubo-$1.log" | head -n1
}

log "Kubo: add"
kubo_start prov
KUBO_PROV_ADDR=$(kubo_addr prov)
[ -n "$KUBO_PROV_ADDR" ] || die "Kubo provider has no loopback TCP address"
c0=$(cpu "$KUBO_PID_prov")
timed kubo_add "$WORK/out" ipfs_ prov add -Q "$FILE"
kubo_add_dcpu=$(awk -v a="$c0" -v b="$(cpu "$KUBO_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
KUBO_CID=$(tr -d '[:space:]' <"$WORK/out")
[ -n "$KUBO_CID" ] || die "Kubo add printed no CID"

log "Kubo: cat $KUBO_CID from one peer"
kubo_start get
ipfs_ get swarm connect "$KUBO_PROV_ADDR" >/dev/null 2>"$WORK/err" || die "ipfs swarm connect failed: $(tr '\n' ' ' <"$WORK/err")"
p0=$(cpu "$KUBO_PID_prov")
g0=$(cpu "$KUBO_PID_get")
timed kubo_cat /dev/null ipfs_ get cat "$KUBO_CID"
kubo_cat_pcpu=$(awk -v a="$p0" -v b="$(cpu "$KUBO_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
kubo_cat_gcpu=$(awk -v a="$g0" -v b="$(cpu "$KUBO_PID_get")" 'BEGIN { printf "%.2f", b - a }')
checksum "ipfs cat" ipfs_ get cat --offline "$KUBO_CID" # now from its own store
stop "$KUBO_PID_get"
rm -rf "$WORK/kubo-get"

log "Kubo: Range at the middle through a fresh node's gateway"
kubo_start seek
ipfs_ seek swarm connect "$KUBO_PROV_ADDR" >/dev/null 2>"$WORK/err" || die "ipfs swarm connect failed: $(tr '\n' ' ' <"$WORK/err")"
KUBO_GW=$(kubo_gateway seek)
[ -n "$KUBO_GW" ] || die "Kubo printed no gateway address"
r=$(range_ttfb "http://$KUBO_GW/ipfs/$KUBO_CID")
read -r kubo_ttfb kubo_rtotal <<<"$r"
r=$(range_ttfb "http://$(kubo_gateway prov)/ipfs/$KUBO_CID")
read -r kubo_ttfb_local _ <<<"$r"
stop "$KUBO_PID_seek"
stop "$KUBO_PID_prov"
rm -rf "$WORK/kubo-seek"

# ---------------------------------------------------------------- plain HTTP

log "HTTP: http.FileServer + curl"
"$WORK/httpserve" -dir "$WORK/data" >"$WORK/http.log" 2>&1 &
HTTP_PID=$!
PIDS+=("$HTTP_PID")
wait_for "httpserve" started "$HTTP_PID" "$WORK/http.log" "listening on"
HTTP_ADDR=$(sed -n 's/^listening on //p' "$WORK/http.log")
s0=$(cpu "$HTTP_PID")
timed http_get "$WORK/out" curl -sf -o /dev/null -w '%{size_download}' "http://$HTTP_ADDR/file.bin"
http_scpu=$(awk -v a="$s0" -v b="$(cpu "$HTTP_PID")" 'BEGIN { printf "%.2f", b - a }')
got=$(cat "$WORK/out")
[ "$got" = "$SIZE" ] || die "curl got $got bytes, want $SIZE"
stop "$HTTP_PID"

# ---------------------------------------------------------------- report

ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
echo
echo "shardcast transfer benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "command:  $CMDLINE"
echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(go version | cut -d' ' -f3-4)"
echo "versions: shardcast $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), Kubo $("$IPFS" version --number)"
echo "load:     1-minute load average $LOAD0 at the start, $(cut -d' ' -f1 /proc/loadavg) at the end (on $(nproc) cores)"
echo "file:     $SIZE_MIB MiB random; MB = 10^6 bytes; shardcast CID $SC_CID; Kubo CID $KUBO_CID"
echo
printf '%-28s %-14s %-24s %s\n' what shardcast anchor ratio
printf '%-28s %-14s %-24s %s×\n' "add $SIZE_MIB MiB" "$(mbps "$sc_add") MB/s" "Kubo $(mbps "$kubo_add") MB/s" \
	"$(ratio "$kubo_add" "$sc_add")"
printf '%-28s %-14s %-24s %s×\n' "fetch $SIZE_MIB MiB, one peer" "$(mbps "$sc_get") MB/s" "Kubo cat $(mbps "$kubo_cat") MB/s" \
	"$(ratio "$kubo_cat" "$sc_get")"
printf '%-28s %-14s %-24s %s×\n' "" "" "HTTP $(mbps "$http_get") MB/s" "$(ratio "$http_get" "$sc_get")"
printf '%-28s %-14s %-24s %s×\n' "Range 1 MiB at middle, TTFB" "$(ms "$sc_ttfb")" "Kubo gw $(ms "$kubo_ttfb")" \
	"$(ratio "$sc_ttfb" "$kubo_ttfb")"
printf '%-28s %-14s %-24s %s×\n' "encrypted import $SIZE_MIB MiB" "$(mbps "$sc_seal") MB/s" "Kubo add $(mbps "$kubo_add") MB/s" \
	"$(ratio "$kubo_add" "$sc_seal")"
printf '%-28s %-14s %-24s %s×\n' "/watch Range at middle, TTFB" "$(ms "$sc_wttfb")" "Kubo gw $(ms "$kubo_ttfb")" \
	"$(ratio "$sc_wttfb" "$kubo_ttfb")"
echo
echo "ratio: throughput shardcast/anchor (higher is better); TTFB shardcast/Kubo (lower is better)"
echo
echo "wall time, and CPU time of the client command, the serving daemon and the fetching daemon:"
printf '  %-22s wall %8s  client %7s  server %7s  fetching daemon %7s\n' \
	"shardcast add" "${sc_add}s" "${sc_add_cpu}s" "${sc_add_dcpu}s" "-" \
	"shardcast publish pay" "${sc_seal}s" "${sc_seal_cpu}s" "${sc_seal_dcpu}s" "-" \
	"Kubo add" "${kubo_add}s" "${kubo_add_cpu}s" "${kubo_add_dcpu}s" "-" \
	"shardcast get" "${sc_get}s" "${sc_get_cpu}s" "${sc_get_pcpu}s" "${sc_get_gcpu}s" \
	"Kubo cat" "${kubo_cat}s" "${kubo_cat_cpu}s" "${kubo_cat_pcpu}s" "${kubo_cat_gcpu}s" \
	"HTTP curl" "${http_get}s" "${http_get_cpu}s" "${http_scpu}s" "-"
printf '  %-22s TTFB %s, whole 1 MiB in %s; on the provider itself (all local) TTFB %s\n' \
	"shardcast Range" "$(ms "$sc_ttfb")" "$(ms "$sc_rtotal")" "$(ms "$sc_ttfb_local")" \
	"shardcast /watch Range" "$(ms "$sc_wttfb")" "$(ms "$sc_wtotal")" "-" \
	"Kubo Range" "$(ms "$kubo_ttfb")" "$(ms "$kubo_rtotal")" "$(ms "$kubo_ttfb_local")"
