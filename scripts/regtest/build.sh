#!/usr/bin/env bash
# Builds the pinned btcd and lnd (+ lncli) used by the Lightning regtest
# tests into the tools cache, only when they are missing, and prints the
# bin directory.
set -euo pipefail

BTCD_VERSION=v0.26.2
LND_VERSION=v0.19.3-beta
TOOLS="${SHARDCAST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/shardcast-tools}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"

if [ ! -x "$BIN/btcd-$BTCD_VERSION" ]; then
	echo "building btcd $BTCD_VERSION" >&2
	tmp=$(mktemp -d "$TOOLS/btcd.XXXXXX")
	GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "github.com/btcsuite/btcd@$BTCD_VERSION"
	mv "$tmp/btcd" "$BIN/btcd-$BTCD_VERSION"
	rm -rf "$tmp"
fi
ln -sf "btcd-$BTCD_VERSION" "$BIN/btcd"

if [ ! -x "$BIN/lnd-$LND_VERSION" ] || [ ! -x "$BIN/lncli-$LND_VERSION" ]; then
	echo "building lnd $LND_VERSION (several minutes, ~1.7 GB of memory)" >&2
	# go install refuses lnd (its go.mod has replace directives): build a
	# writable copy of the module source instead.
	dir=$(go mod download -json "github.com/lightningnetwork/lnd@$LND_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -n "$dir" ] || { echo "build.sh: no module directory for lnd" >&2; exit 1; }
	src="$TOOLS/src/lnd-$LND_VERSION"
	if [ ! -d "$src" ]; then
		mkdir -p "$TOOLS/src"
		cp -r "$dir" "$src.tmp"
		chmod -R u+w "$src.tmp"
		mv "$src.tmp" "$src"
	fi
	tags="invoicesrpc routerrpc signrpc walletrpc chainrpc peersrpc verrpc"
	# lowscrypt makes wallet creation cheap; test builds only.
	if grep -rqsE '^//go:build .*lowscrypt' "$src" --include='*.go'; then
		tags="$tags lowscrypt"
	fi
	(cd "$src" && GOFLAGS=-buildvcs=false go build -tags "$tags" -o "$BIN/lnd-$LND_VERSION.tmp" ./cmd/lnd &&
		GOFLAGS=-buildvcs=false go build -tags "$tags" -o "$BIN/lncli-$LND_VERSION.tmp" ./cmd/lncli)
	mv "$BIN/lnd-$LND_VERSION.tmp" "$BIN/lnd-$LND_VERSION"
	mv "$BIN/lncli-$LND_VERSION.tmp" "$BIN/lncli-$LND_VERSION"
fi
ln -sf "lnd-$LND_VERSION" "$BIN/lnd"
ln -sf "lncli-$LND_VERSION" "$BIN/lncli"

echo "$BIN"
