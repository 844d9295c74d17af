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
#   6. the fetch of 2. against its ceilings, each between two processes:
#               BitTorrent (anacrolix/torrent, bench/torrent): one seeder, one
#               leecher, TCP, no DHT, trackers or uTP; pieces of 1 MiB, SHA-1
#               one raw go-libp2p stream (TCP + Noise + yamux, bench/libp2p),
#               with and without the receiver hashing every byte (SHA-256)
#
# For every fetch it reports the fetching process's CPU seconds and the peak
# RSS (VmHWM, reset before the transfer on daemons that were already up) of
# the fetching and the serving side, and checks the goal of one-peer fetch:
# shardcast's get at >= 70 % of the hashed raw stream and >= 2x BitTorrent,
# the fetching daemon's CPU <= 2 s per GiB, its peak RSS <= Kubo's.
#
# Each fetch runs once, on a node started for it. The source file stays in the
# page cache for every contender. MB is 10^6 bytes. Everything lives in a
# temporary directory removed at exit; every daemon is stopped at exit.
#
#   scripts/bench.sh [--size MiB] [--bin SHARDCAST] [--fetch-only] [--profile DIR] [--json]
#
# --size        file size in MiB (default 1024)
# --bin         a shardcast binary to use instead of building one
# --fetch-only  only the fetch from one peer and its anchors (1, 2, 6): no
#               seeks, no encrypted import
# --profile DIR write a CPU profile of the fetching shardcast daemon during
#               its get to DIR/get.cpu.pprof (from its /debug/pprof/profile),
#               with a copy of the binary beside it for go tool pprof
# --json        print one JSON object with every figure on stdout (the table
#               goes to stderr)
set -euo pipefail

SIZE_MIB=1024
BIN=""
FETCH_ONLY=0
PROFILE_DIR=""
JSON=0
CMDLINE="$0${*:+ $*}"
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE_MIB="${2:?--size needs a value}"; shift 2 ;;
	--size=*) SIZE_MIB="${1#*=}"; shift ;;
	--bin) BIN="${2:?--bin needs a value}"; shift 2 ;;
	--bin=*) BIN="${1#*=}"; shift ;;
	--fetch-only) FETCH_ONLY=1; shift ;;
	--profile) PROFILE_DIR="${2:?--profile needs a directory}"; shift 2 ;;
	--profile=*) PROFILE_DIR="${1#*=}"; shift ;;
	--json) JSON=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1 (try --help)" >&2; exit 2 ;;
	esac
done
case "$SIZE_MIB" in '' | *[!0-9]*) echo "bench: --size wants a whole number of MiB" >&2; exit 2 ;; esac
[ "$SIZE_MIB" -ge 2 ] || { echo "bench: --size must be at least 2 MiB" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "$PROFILE_DIR" ]; then
	mkdir -p "$PROFILE_DIR" || { echo "bench: cannot create $PROFILE_DIR" >&2; exit 2; }
	PROFILE_DIR=$(cd "$PROFILE_DIR" && pwd)
fi
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

# hwm PID: peak resident memory of a running process, in MiB (VmHWM).
hwm() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# hwm_reset PID: start counting the peak anew (Linux >= 4.0; as root or owner).
hwm_reset() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null || true; }

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

TREE=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')
SC_VERSION="built from $TREE"
[ -z "$BIN" ] || SC_VERSION="$BIN (given; this tree is at $TREE)"
if [ -z "$BIN" ]; then
	log "building shardcast"
	(cd "$ROOT" && go build -o "$WORK/shardcast" ./cmd/shardcast) || die "building shardcast failed"
	BIN="$WORK/shardcast"
fi
[ -x "$BIN" ] || die "$BIN is not an executable"
(cd "$ROOT" && go build -o "$WORK/httpserve" ./bench/transfer/httpserve) || die "building httpserve failed"
(cd "$ROOT" && go build -o "$WORK/libp2pbench" ./bench/libp2p) || die "building libp2pbench failed"
# Its own module: the torrent library's dependencies stay out of shardcast's.
# It needs cgo (go-libutp), so a C compiler.
log "building the BitTorrent anchor (bench/torrent)"
(cd "$ROOT/bench/torrent" && CGO_ENABLED=1 go build -o "$WORK/torrentbench" .) || die "building bench/torrent failed"
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
hwm_reset "$SC_PID_prov"
PROF_PID=""
if [ -n "$PROFILE_DIR" ]; then
	# Long enough for a fetch at 100 MB/s; CPU samples after the get are
	# the blocks still being written behind it, which belong to its cost.
	PROF_S=$((SIZE_MIB / 100 + 3))
	log "profiling the fetching daemon for ${PROF_S}s"
	cp "$BIN" "$PROFILE_DIR/shardcast"
	curl -sf --max-time $((PROF_S + 30)) -H "Authorization: Bearer $(tr -d '[:space:]' <"$WORK/sc-get/api.token")" \
		-o "$PROFILE_DIR/get.cpu.pprof" "http://$(tr -d '[:space:]' <"$WORK/sc-get/api")/debug/pprof/profile?seconds=$PROF_S" &
	PROF_PID=$!
	sleep 0.2 # the profile starts before the get
fi
p0=$(cpu "$SC_PID_prov")
g0=$(cpu "$SC_PID_get")
timed sc_get /dev/null sc get get "$SC_CID"
sc_get_pcpu=$(awk -v a="$p0" -v b="$(cpu "$SC_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
sc_get_gcpu=$(awk -v a="$g0" -v b="$(cpu "$SC_PID_get")" 'BEGIN { printf "%.2f", b - a }')
# Fetched blocks are written behind the reader: wait for them to land.
# Files under blocks/.temp are flatfs's batches still being written.
stored_all() { [ "$(find "$WORK/sc-get" -path '*/.temp' -prune -o -type f -name '*.data' -print | wc -l)" -ge "$SIZE_MIB" ]; }
wait_for "the fetching node to store every block" stored_all
# CPU until the last block is stored counts too (the writes behind the get).
sc_get_gcpu_stored=$(awk -v a="$g0" -v b="$(cpu "$SC_PID_get")" 'BEGIN { printf "%.2f", b - a }')
sc_get_grss=$(hwm "$SC_PID_get")
sc_get_prss=$(hwm "$SC_PID_prov")
if [ -n "$PROF_PID" ]; then
	wait "$PROF_PID" || die "taking the CPU profile failed"
	awk -v g="$sc_get" -v p="$PROF_S" 'BEGIN { exit !(g > p) }' &&
		log "the get took ${sc_get}s, longer than the ${PROF_S}s profile: it covers only the start"
	log "CPU profile in $PROFILE_DIR/get.cpu.pprof: go tool pprof -top $PROFILE_DIR/shardcast $PROFILE_DIR/get.cpu.pprof"
fi
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

if [ "$FETCH_ONLY" = 0 ]; then
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
rm -rf "$WORK/sc-watch"
fi
stop "$SC_PID_prov"

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
hwm_reset "$KUBO_PID_prov"
p0=$(cpu "$KUBO_PID_prov")
g0=$(cpu "$KUBO_PID_get")
timed kubo_cat /dev/null ipfs_ get cat "$KUBO_CID"
kubo_cat_pcpu=$(awk -v a="$p0" -v b="$(cpu "$KUBO_PID_prov")" 'BEGIN { printf "%.2f", b - a }')
kubo_cat_gcpu=$(awk -v a="$g0" -v b="$(cpu "$KUBO_PID_get")" 'BEGIN { printf "%.2f", b - a }')
kubo_cat_grss=$(hwm "$KUBO_PID_get")
kubo_cat_prss=$(hwm "$KUBO_PID_prov")
checksum "ipfs cat" ipfs_ get cat --offline "$KUBO_CID" # now from its own store
stop "$KUBO_PID_get"
rm -rf "$WORK/kubo-get"

if [ "$FETCH_ONLY" = 0 ]; then
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
rm -rf "$WORK/kubo-seek"
fi
stop "$KUBO_PID_prov"

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
http_srss=$(hwm "$HTTP_PID")
got=$(cat "$WORK/out")
[ "$got" = "$SIZE" ] || die "curl got $got bytes, want $SIZE"
stop "$HTTP_PID"

# ---------------------------------------------------------------- BitTorrent

log "BitTorrent: seeder hashing the file"
"$WORK/torrentbench" seed -file "$FILE" -info "$WORK/file.torrent" >"$WORK/tor-seed.log" 2>&1 &
TOR_PID=$!
PIDS+=("$TOR_PID")
wait_for "the BitTorrent seeder" started "$TOR_PID" "$WORK/tor-seed.log" "listening on"
TOR_ADDR=$(sed -n 's/^listening on //p' "$WORK/tor-seed.log")
log "BitTorrent: one leecher from $TOR_ADDR"
mkdir -p "$WORK/tor-leech"
hwm_reset "$TOR_PID"
s0=$(cpu "$TOR_PID")
timed tor_get "$WORK/out" /usr/bin/time -f '%M' -o "$WORK/rss" \
	"$WORK/torrentbench" leech -info "$WORK/file.torrent" -peer "$TOR_ADDR" -dir "$WORK/tor-leech"
tor_scpu=$(awk -v a="$s0" -v b="$(cpu "$TOR_PID")" 'BEGIN { printf "%.2f", b - a }')
tor_srss=$(hwm "$TOR_PID")
tor_grss=$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/rss")
stop "$TOR_PID"
[ "$(sha256sum <"$WORK/tor-leech/file.bin" | cut -d' ' -f1)" = "$SUM" ] || die "the BitTorrent leecher wrote bytes that differ from the file"
rm -rf "$WORK/tor-leech"

# ---------------------------------------------------------------- raw libp2p

log "libp2p: one raw stream (TCP + Noise + yamux)"
"$WORK/libp2pbench" serve -file "$FILE" >"$WORK/raw.log" 2>&1 &
RAW_PID=$!
PIDS+=("$RAW_PID")
wait_for "libp2pbench" started "$RAW_PID" "$WORK/raw.log" "listening on"
RAW_ADDR=$(sed -n 's/^listening on //p' "$WORK/raw.log")
for mode in hash plain; do
	flag=""
	[ "$mode" = hash ] && flag="-hash"
	hwm_reset "$RAW_PID"
	s0=$(cpu "$RAW_PID")
	timed "raw_$mode" "$WORK/out" /usr/bin/time -f '%M' -o "$WORK/rss" "$WORK/libp2pbench" fetch -peer "$RAW_ADDR" $flag
	printf -v "raw_${mode}_scpu" '%s' "$(awk -v a="$s0" -v b="$(cpu "$RAW_PID")" 'BEGIN { printf "%.2f", b - a }')"
	printf -v "raw_${mode}_srss" '%s' "$(hwm "$RAW_PID")"
	printf -v "raw_${mode}_grss" '%s' "$(awk '{ printf "%.0f", $1 / 1024 }' "$WORK/rss")"
	read -r _ n digest <"$WORK/out"
	[ "$n" = "$SIZE" ] || die "the raw libp2p stream moved $n bytes, want $SIZE"
	[ "$mode" = plain ] || [ "$digest" = "$SUM" ] || die "the raw libp2p stream's bytes differ from the file"
done
stop "$RAW_PID"

# ---------------------------------------------------------------- report

ms() { awk -v s="$1" 'BEGIN { printf "%.0f ms", s * 1000 }'; }
gib() { awk -v x="$1" -v s="$SIZE" 'BEGIN { printf "%.2f", x * 1073741824 / s }'; }
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
UPTIME=$(uptime)
# Goal 1, from one peer: >= 70 % of the hashed raw stream, >= 2x BitTorrent,
# the fetching daemon's CPU (to the last block stored) <= 2 s per GiB, its
# peak RSS <= Kubo's fetching daemon's.
r_raw=$(ratio "$raw_hash" "$sc_get")
r_tor=$(ratio "$tor_get" "$sc_get")
cpu_gib=$(gib "$sc_get_gcpu_stored")
met() { awk "BEGIN { exit !($1) }" && echo met || echo "NOT met"; }
g_raw=$(met "$r_raw >= 0.70")
g_tor=$(met "$r_tor >= 2")
g_cpu=$(met "$cpu_gib <= 2")
g_rss=$(met "$sc_get_grss <= $kubo_cat_grss")

report() {
	echo
	echo "shardcast transfer benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "command:  $CMDLINE"
	echo "machine:  $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(go version | cut -d' ' -f3-4)"
	echo "versions: shardcast $SC_VERSION, Kubo $("$IPFS" version --number), anacrolix/torrent $(awk '$1 == "github.com/anacrolix/torrent" { print $2 }' "$ROOT/bench/torrent/go.mod")"
	echo "load:     1-minute load average $LOAD0 at the start, $LOAD1 at the end (on $(nproc) cores)"
	echo "uptime:   $UPTIME"
	echo "file:     $SIZE_MIB MiB random; MB = 10^6 bytes; shardcast CID $SC_CID; Kubo CID $KUBO_CID"
	echo
	printf '%-28s %-14s %-30s %s\n' what shardcast anchor ratio
	printf '%-28s %-14s %-30s %s×\n' "add $SIZE_MIB MiB" "$(mbps "$sc_add") MB/s" "Kubo $(mbps "$kubo_add") MB/s" \
		"$(ratio "$kubo_add" "$sc_add")"
	printf '%-28s %-14s %-30s %s×\n' "fetch $SIZE_MIB MiB, one peer" "$(mbps "$sc_get") MB/s" "Kubo cat $(mbps "$kubo_cat") MB/s" \
		"$(ratio "$kubo_cat" "$sc_get")"
	printf '%-28s %-14s %-30s %s×\n' "" "" "BitTorrent $(mbps "$tor_get") MB/s" "$r_tor" \
		"" "" "libp2p stream+SHA-256 $(mbps "$raw_hash") MB/s" "$r_raw" \
		"" "" "libp2p stream $(mbps "$raw_plain") MB/s" "$(ratio "$raw_plain" "$sc_get")" \
		"" "" "HTTP $(mbps "$http_get") MB/s" "$(ratio "$http_get" "$sc_get")"
	if [ "$FETCH_ONLY" = 0 ]; then
		printf '%-28s %-14s %-30s %s×\n' "Range 1 MiB at middle, TTFB" "$(ms "$sc_ttfb")" "Kubo gw $(ms "$kubo_ttfb")" \
			"$(ratio "$sc_ttfb" "$kubo_ttfb")"
		printf '%-28s %-14s %-30s %s×\n' "encrypted import $SIZE_MIB MiB" "$(mbps "$sc_seal") MB/s" "Kubo add $(mbps "$kubo_add") MB/s" \
			"$(ratio "$kubo_add" "$sc_seal")"
		printf '%-28s %-14s %-30s %s×\n' "/watch Range at middle, TTFB" "$(ms "$sc_wttfb")" "Kubo gw $(ms "$kubo_ttfb")" \
			"$(ratio "$sc_wttfb" "$kubo_ttfb")"
	fi
	echo
	echo "ratio: throughput shardcast/anchor (higher is better); TTFB shardcast/Kubo (lower is better)"
	echo
	echo "fetch from one peer: wall time, CPU seconds and peak RSS of the fetching and the serving side"
	echo "(shardcast's fetching CPU counts to the last block stored; in brackets, to the end of the get):"
	printf '  %-24s %9s  fetch CPU %-13s RSS %6s   serve CPU %6s RSS %6s\n' \
		"shardcast get (daemon)" "${sc_get}s" "${sc_get_gcpu_stored}s (${sc_get_gcpu}s)" "${sc_get_grss}M" "${sc_get_pcpu}s" "${sc_get_prss}M" \
		"Kubo cat (daemon)" "${kubo_cat}s" "${kubo_cat_gcpu}s" "${kubo_cat_grss}M" "${kubo_cat_pcpu}s" "${kubo_cat_prss}M" \
		"BitTorrent leecher" "${tor_get}s" "${tor_get_cpu}s" "${tor_grss}M" "${tor_scpu}s" "${tor_srss}M" \
		"libp2p stream+SHA-256" "${raw_hash}s" "${raw_hash_cpu}s" "${raw_hash_grss}M" "${raw_hash_scpu}s" "${raw_hash_srss}M" \
		"libp2p stream" "${raw_plain}s" "${raw_plain_cpu}s" "${raw_plain_grss}M" "${raw_plain_scpu}s" "${raw_plain_srss}M" \
		"HTTP curl" "${http_get}s" "${http_get_cpu}s" "-" "${http_scpu}s" "${http_srss}M"
	echo "  (the get's and cat's own CLI used ${sc_get_cpu}s and ${kubo_cat_cpu}s)"
	echo
	echo "goal 1 (one peer):"
	echo "  get >= 70 % of the hashed libp2p stream:    $r_raw    $g_raw"
	echo "  get >= 2x BitTorrent:                        ${r_tor}×   $g_tor"
	echo "  fetching daemon CPU <= 2 s per GiB:          ${cpu_gib}s   $g_cpu"
	echo "  fetching daemon peak RSS <= Kubo's:          ${sc_get_grss} vs ${kubo_cat_grss} MiB   $g_rss"
	if [ "$FETCH_ONLY" = 0 ]; then
		echo
		echo "imports (wall, client CPU, daemon CPU):"
		printf '  %-22s wall %8s  client %7s  daemon %7s\n' \
			"shardcast add" "${sc_add}s" "${sc_add_cpu}s" "${sc_add_dcpu}s" \
			"shardcast publish pay" "${sc_seal}s" "${sc_seal_cpu}s" "${sc_seal_dcpu}s" \
			"Kubo add" "${kubo_add}s" "${kubo_add_cpu}s" "${kubo_add_dcpu}s"
		printf '  %-22s TTFB %s, whole 1 MiB in %s; on the provider itself (all local) TTFB %s\n' \
			"shardcast Range" "$(ms "$sc_ttfb")" "$(ms "$sc_rtotal")" "$(ms "$sc_ttfb_local")" \
			"shardcast /watch Range" "$(ms "$sc_wttfb")" "$(ms "$sc_wtotal")" "-" \
			"Kubo Range" "$(ms "$kubo_ttfb")" "$(ms "$kubo_rtotal")" "$(ms "$kubo_ttfb_local")"
	fi
}

# j NAME VALUE: one JSON member; an empty value is null.
j() { if [ -n "$2" ]; then printf '"%s":%s' "$1" "$2"; else printf '"%s":null' "$1"; fi; }
js() { printf '"%s":"%s"' "$1" "$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
json() {
	local secs="" m
	printf '{'
	js date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"; printf ','
	js command "$CMDLINE"; printf ','
	js commit "$TREE"; printf ','
	js shardcast "$SC_VERSION"; printf ','
	j cores "$(nproc)"; printf ','
	j size_mib "$SIZE_MIB"; printf ','
	j load_start "$LOAD0"; printf ','
	j load_end "$LOAD1"; printf ','
	js uptime "$UPTIME"; printf ','
	printf '"fetch":{'
	printf '"shardcast":{%s,%s,%s,%s,%s,%s,%s},' "$(j seconds "$sc_get")" "$(j mbps "$(mbps "$sc_get")")" \
		"$(j fetch_cpu_s "$sc_get_gcpu_stored")" "$(j fetch_cpu_to_end_of_get_s "$sc_get_gcpu")" "$(j fetch_rss_mib "$sc_get_grss")" \
		"$(j serve_cpu_s "$sc_get_pcpu")" "$(j serve_rss_mib "$sc_get_prss")"
	printf '"kubo":{%s,%s,%s,%s,%s,%s},' "$(j seconds "$kubo_cat")" "$(j mbps "$(mbps "$kubo_cat")")" \
		"$(j fetch_cpu_s "$kubo_cat_gcpu")" "$(j fetch_rss_mib "$kubo_cat_grss")" "$(j serve_cpu_s "$kubo_cat_pcpu")" "$(j serve_rss_mib "$kubo_cat_prss")"
	printf '"bittorrent":{%s,%s,%s,%s,%s,%s},' "$(j seconds "$tor_get")" "$(j mbps "$(mbps "$tor_get")")" \
		"$(j fetch_cpu_s "$tor_get_cpu")" "$(j fetch_rss_mib "$tor_grss")" "$(j serve_cpu_s "$tor_scpu")" "$(j serve_rss_mib "$tor_srss")"
	printf '"libp2p_sha256":{%s,%s,%s,%s,%s,%s},' "$(j seconds "$raw_hash")" "$(j mbps "$(mbps "$raw_hash")")" \
		"$(j fetch_cpu_s "$raw_hash_cpu")" "$(j fetch_rss_mib "$raw_hash_grss")" "$(j serve_cpu_s "$raw_hash_scpu")" "$(j serve_rss_mib "$raw_hash_srss")"
	printf '"libp2p":{%s,%s,%s,%s,%s,%s},' "$(j seconds "$raw_plain")" "$(j mbps "$(mbps "$raw_plain")")" \
		"$(j fetch_cpu_s "$raw_plain_cpu")" "$(j fetch_rss_mib "$raw_plain_grss")" "$(j serve_cpu_s "$raw_plain_scpu")" "$(j serve_rss_mib "$raw_plain_srss")"
	printf '"http":{%s,%s,%s,%s,%s}' "$(j seconds "$http_get")" "$(j mbps "$(mbps "$http_get")")" \
		"$(j fetch_cpu_s "$http_get_cpu")" "$(j serve_cpu_s "$http_scpu")" "$(j serve_rss_mib "$http_srss")"
	printf '},'
	printf '"goal1":{%s,%s,%s,%s,%s,%s,%s,%s},' "$(j ratio_libp2p_sha256 "$r_raw")" "$(js libp2p_sha256 "$g_raw")" \
		"$(j ratio_bittorrent "$r_tor")" "$(js bittorrent "$g_tor")" "$(j cpu_s_per_gib "$cpu_gib")" "$(js cpu "$g_cpu")" \
		"$(j rss_mib_vs_kubo "$(ratio "$sc_get_grss" "$kubo_cat_grss")")" "$(js rss "$g_rss")"
	printf '%s,%s' "$(j add_mbps "$(mbps "$sc_add")")" "$(j kubo_add_mbps "$(mbps "$kubo_add")")"
	if [ "$FETCH_ONLY" = 0 ]; then
		printf ',%s,%s,%s,%s' "$(j encrypted_import_mbps "$(mbps "$sc_seal")")" "$(j range_ttfb_ms "$(ms "$sc_ttfb" | cut -d' ' -f1)")" \
			"$(j watch_ttfb_ms "$(ms "$sc_wttfb" | cut -d' ' -f1)")" "$(j kubo_range_ttfb_ms "$(ms "$kubo_ttfb" | cut -d' ' -f1)")"
	fi
	printf '}\n'
}

if [ "$JSON" = 1 ]; then
	report >&2
	json
else
	report
fi
