#!/usr/bin/env bash
# Starts a private Lightning regtest network under DIR: btcd and two lnd
# nodes, alice and bob, on loopback ports, with one funded channel from
# alice to bob that is ready for payments. Writes DIR/env (shell syntax):
# ALICE_REST, ALICE_CERT, ALICE_MACAROON, the same for BOB, BTCD_RPC,
# BTCD_CERT, BTCD_USER, BTCD_PASS, and the pids. Stop it with stop.sh DIR.
# Every wait polls with a deadline, and fails at once if a daemon exits.
#
# Env: SHARDCAST_TOOLS (where build.sh put the binaries),
# REGTEST_PORT_BASE (first of 8 consecutive ports; by default a random
# 8-aligned slot in 20000-31999, below Linux's ephemeral port range, so
# two networks either share no port or all of them),
# REGTEST_CHANNEL_SAT (channel size, default 10000000).
#
# Exit status: 0 ready, 2 usage, 3 a tool is missing, 4 a port was taken
# (start again on other ports), 1 anything else.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: start.sh DIR" >&2; exit 2; }
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
BIN="${SHARDCAST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/shardcast-tools}/bin"
for tool in "$BIN/btcd" "$BIN/lnd" curl jq xxd base64; do
	command -v "$tool" >/dev/null || { echo "start.sh: $tool missing (run build.sh)" >&2; exit 3; }
done

BASE=${REGTEST_PORT_BASE:-$((20000 + 8 * (RANDOM % 1500)))}
BTCD_RPC=$BASE BTCD_P2P=$((BASE + 1))
CHANNEL_SAT=${REGTEST_CHANNEL_SAT:-10000000}

# A test-only wallet seed, public on purpose: its first p2wkh address
# receives the coinbases, so btcd can mine to it from the first block.
ALICE_SEED="absorb doctor wonder valve quit reunion stuff gold crew pause length climb home hero hospital identify tower episode faculty copper stock figure body orbit"
ALICE_ADDR="bcrt1q3lvslnrh96px5syahuhqs7age2hguex5dh4gcp"

export HOME="$DIR/home" # btcd writes ~/.btcd whatever it is told
mkdir -p "$HOME" "$DIR/btcd"
: >"$DIR/btcd/empty.conf"

log() { echo "regtest: $*" >&2; }
fail() {
	log "$*"
	for f in "$DIR"/*/out.log; do
		[ -f "$f" ] && { log "last lines of $f:"; tail -n 15 "$f" >&2; }
	done
	if grep -qs 'address already in use' "$DIR"/*/out.log "$DIR"/btcd/logs/regtest/*.log; then
		log "a port in $BASE-$((BASE + 7)) was taken"
		exit 4
	fi
	exit 1
}
# On any failure, stop whatever was started.
SCRIPTS=$(cd "$(dirname "$0")" && pwd)
trap 'rc=$?; [ $rc -eq 0 ] || "$SCRIPTS/stop.sh" "$DIR"' EXIT

# alive fails, naming it, if a daemon started so far has exited.
alive() {
	local name pid
	while IFS== read -r name pid; do
		kill -0 "$pid" 2>/dev/null || { echo "${name%_PID}"; return 1; }
	done <"$DIR/pids"
}

# wait_for DESC SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
	local desc=$1 secs=$2 dead
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		dead=$(alive) || fail "${dead,,} exited while waiting for $desc"
		[ $SECONDS -lt $deadline ] || fail "timed out after ${secs}s waiting for $desc"
		sleep 0.2
	done
}

btcctl() {
	curl -sf --cacert "$DIR/btcd/rpc.cert" -u regtest:regtest -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"$1\",\"params\":${2:-[]}}" "https://127.0.0.1:$BTCD_RPC/"
}
mine() { btcctl generate "[$1]" | jq -e '.error == null' >/dev/null; }

# lnd NAME PATH [curl args...]: one REST call to node NAME.
lnd() {
	local name=$1 path=$2
	shift 2
	local d="$DIR/$name" port
	port=$(cat "$d/rest.port")
	local mac=()
	if [ -f "$d/data/chain/bitcoin/regtest/admin.macaroon" ]; then
		mac=(-H "Grpc-Metadata-macaroon: $(xxd -p -c 1000 "$d/data/chain/bitcoin/regtest/admin.macaroon")")
	fi
	curl -sf --cacert "$d/tls.cert" "${mac[@]}" "$@" "https://127.0.0.1:$port$path"
}

log "btcd on 127.0.0.1:$BTCD_RPC"
"$BIN/btcd" --regtest --rpcuser=regtest --rpcpass=regtest --rpclisten=127.0.0.1:$BTCD_RPC \
	--listen=127.0.0.1:$BTCD_P2P --txindex --nodnsseed --nobanning --nostalldetect \
	--trickleinterval=100ms --utxocachemaxsize=16 --miningaddr="$ALICE_ADDR" -C "$DIR/btcd/empty.conf" \
	--datadir="$DIR/btcd/data" --logdir="$DIR/btcd/logs" --rpccert="$DIR/btcd/rpc.cert" \
	--rpckey="$DIR/btcd/rpc.key" >"$DIR/btcd/out.log" 2>&1 &
echo "BTCD_PID=$!" >"$DIR/pids"
wait_for "btcd's RPC" 60 btcctl getblockcount
mine 101 || fail "mining 101 blocks"

start_lnd() {
	local name=$1 n=$2 d="$DIR/$1"
	local rpc=$((BASE + 2 + 3 * n)) rest=$((BASE + 3 + 3 * n)) p2p=$((BASE + 4 + 3 * n))
	mkdir -p "$d"
	echo "$rest" >"$d/rest.port"
	echo "$p2p" >"$d/p2p.port"
	shift 2
	"$BIN/lnd" --lnddir="$d" --bitcoin.regtest --bitcoin.node=btcd --btcd.rpchost=127.0.0.1:$BTCD_RPC \
		--btcd.rpcuser=regtest --btcd.rpcpass=regtest --btcd.rpccert="$DIR/btcd/rpc.cert" --nobootstrap \
		--rpclisten=127.0.0.1:$rpc --restlisten=127.0.0.1:$rest --listen=127.0.0.1:$p2p --externalip=127.0.0.1:$p2p \
		--trickledelay=50 --bitcoin.defaultchanconfs=1 --gossip.sub-batch-delay=5ms --debuglevel=info \
		--alias="$name" "$@" >"$d/out.log" 2>&1 &
	echo "${name^^}_PID=$!" >>"$DIR/pids"
}
state_is() { lnd "$1" /v1/state | jq -e --arg s "$2" '.state == $s'; }

log "lnd alice and bob"
start_lnd alice 0
start_lnd bob 1 --noseedbackup
wait_for "alice's REST" 90 state_is alice NON_EXISTING
pw=$(printf 'regtest-password' | base64)
seed_json=$(printf '%s' "$ALICE_SEED" | jq -R 'split(" ")')
lnd alice /v1/initwallet -X POST -d "{\"wallet_password\":\"$pw\",\"cipher_seed_mnemonic\":$seed_json,\"recovery_window\":10}" >/dev/null ||
	fail "initwallet on alice"
mine 1 # lnd stays unsynced on a chain whose tip is years old
for n in alice bob; do wait_for "$n active" 90 state_is $n SERVER_ACTIVE; done
synced() { lnd "$1" /v1/getinfo | jq -e '.synced_to_chain'; }
funded() { lnd alice /v1/balance/blockchain | jq -e '(.confirmed_balance | tonumber) > 0'; }
for n in alice bob; do wait_for "$n synced" 90 synced $n; done
wait_for "alice's funds" 90 funded

bob_key=$(lnd bob /v1/getinfo | jq -r .identity_pubkey)
lnd alice /v1/peers -X POST -d "{\"addr\":{\"pubkey\":\"$bob_key\",\"host\":\"127.0.0.1:$(cat "$DIR/bob/p2p.port")\"}}" >/dev/null ||
	fail "connecting alice to bob"
peered() { lnd alice /v1/peers | jq -e --arg k "$bob_key" '[.peers[]? | select(.pub_key == $k)] | length > 0'; }
wait_for "alice to see bob as a peer" 30 peered

bob_key_b64=$(printf '%s' "$bob_key" | xxd -r -p | base64 -w0)
lnd alice /v1/channels -X POST -d "{\"node_pubkey\":\"$bob_key_b64\",\"local_funding_amount\":\"$CHANNEL_SAT\",\"sat_per_vbyte\":\"1\"}" >/dev/null ||
	fail "opening the channel"
in_mempool() { btcctl getrawmempool | jq -e '.result | length > 0'; }
wait_for "the funding transaction" 30 in_mempool
mine 6
chan_id() { lnd alice /v1/channels | jq -er '.channels[0] | select(.active) | .chan_id'; }
wait_for "an active channel" 60 chan_id
cid=$(chan_id)
policies() { lnd alice "/v1/graph/edge/$cid" | jq -e '.node1_policy != null and .node2_policy != null'; }
wait_for "both channel policies" 60 policies

{
	for n in alice bob; do
		N=${n^^}
		echo "${N}_REST=127.0.0.1:$(cat "$DIR/$n/rest.port")"
		echo "${N}_CERT=$DIR/$n/tls.cert"
		echo "${N}_MACAROON=$DIR/$n/data/chain/bitcoin/regtest/admin.macaroon"
	done
	echo "BTCD_RPC=127.0.0.1:$BTCD_RPC"
	echo "BTCD_CERT=$DIR/btcd/rpc.cert"
	echo "BTCD_USER=regtest"
	echo "BTCD_PASS=regtest"
	cat "$DIR/pids"
} >"$DIR/env.tmp"
mv "$DIR/env.tmp" "$DIR/env"
log "ready: $DIR/env"
