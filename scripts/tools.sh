#!/usr/bin/env bash
# tools.sh installs the outside programs the tests and benchmarks need, each
# pinned, built from its module source, and cached outside the clone so a
# fresh clone (as in CI) reuses it. It is idempotent: a tool already built is
# left alone. It prints the directory holding the binaries.
#
#   scripts/tools.sh [kubo] [chromium] [ffmpeg] [age] [lightning] [axe]
#
# axe: the pinned axe-core accessibility checker, fetched with npm's own
# client and checked against its pinned sha512; the UI tests load its
# axe.min.js (TOOLS/axe-core-VERSION.min.js) into each page they check.
# lightning: the pinned btcd and lnd of the Lightning regtest tests
# (scripts/regtest/build.sh; lnd takes several minutes, once) and the
# curl, jq and xxd that scripts/regtest/start.sh drives them with.
set -euo pipefail

KUBO_VERSION=v0.43.0
AXE_VERSION=4.14.1
AXE_SHA512=FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
TOOLS="${SHARDCAST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/shardcast-tools}"
mkdir -p "$TOOLS/bin"

log() { echo "tools: $*" >&2; }

build_kubo() {
	local out="$TOOLS/bin/ipfs-$KUBO_VERSION"
	if [ -x "$out" ]; then return; fi
	log "building Kubo $KUBO_VERSION (a few minutes, once)"
	local dir src
	# Kubo's go.mod has directives that `go install pkg@version` refuses, so build
	# it inside a writable copy of its module source.
	dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/ipfs/kubo@$KUBO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { log "could not download Kubo $KUBO_VERSION"; exit 1; }
	src=$(mktemp -d)
	cp -r "$dir/." "$src/"
	chmod -R u+w "$src"
	(cd "$src" && GOFLAGS=-mod=mod go build -o "$out.tmp" ./cmd/ipfs)
	mv "$out.tmp" "$out"
	rm -rf "$src"
}

fetch_axe() {
	local out="$TOOLS/axe-core-$AXE_VERSION.min.js"
	if [ -f "$out" ]; then return; fi
	command -v npm >/dev/null 2>&1 || { log "axe-core needs npm"; exit 1; }
	log "fetching axe-core $AXE_VERSION"
	local dir got
	dir=$(mktemp -d)
	(cd "$dir" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
	got=$(openssl dgst -sha512 -binary "$dir/axe-core-$AXE_VERSION.tgz" | base64 -w0)
	if [ "$got" != "$AXE_SHA512" ]; then
		log "axe-core $AXE_VERSION: sha512 $got, want $AXE_SHA512"
		rm -rf "$dir"
		exit 1
	fi
	tar -xzf "$dir/axe-core-$AXE_VERSION.tgz" -C "$dir" package/axe.min.js
	mv "$dir/package/axe.min.js" "$out"
	rm -rf "$dir"
}

need_apt=()
want() { command -v "$1" >/dev/null 2>&1 || need_apt+=("$2"); }

for t in "${@:-kubo}"; do
	case "$t" in
	kubo) build_kubo ;;
	chromium) want chromium chromium ;;
	ffmpeg) want ffmpeg ffmpeg ;;
	age) want age age ;;
	axe) fetch_axe ;;
	lightning)
		SHARDCAST_TOOLS="$TOOLS" "$(dirname "$0")/regtest/build.sh" >/dev/null
		want curl curl
		want jq jq
		want xxd xxd
		;;
	*) log "unknown tool $t"; exit 2 ;;
	esac
done
if [ "${#need_apt[@]}" -gt 0 ]; then
	log "installing ${need_apt[*]} from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
ln -sf "ipfs-$KUBO_VERSION" "$TOOLS/bin/ipfs" 2>/dev/null || true
echo "$TOOLS/bin"
