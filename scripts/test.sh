#!/usr/bin/env bash
# test.sh is the project's one test command. On a fresh machine of the
# project's kind it installs what the tests need (a pinned Kubo, and the
# pinned btcd and lnd of the Lightning tests, built from their module
# sources and cached outside the clone; pinned Go tools), then checks
# formatting, vets, runs staticcheck and every test. Nothing is skipped
# for want of a tool: SHARDCAST_REQUIRE_TOOLS=1 makes such a test fail.
#
#   scripts/test.sh            everything
#   scripts/test.sh -run Kubo  extra flags go to `go test`
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

step() { printf '\n== %s\n' "$*"; }

step "tools"
bin=$(scripts/tools.sh kubo age chromium lightning axe)
export SHARDCAST_KUBO="$bin/ipfs"
# Where internal/regtest (and scripts/regtest) find btcd and lnd.
SHARDCAST_TOOLS=$(dirname "$bin")
export SHARDCAST_TOOLS
# A test that needs a tool fails, rather than skips, when it is missing.
export SHARDCAST_REQUIRE_TOOLS=1
"$SHARDCAST_KUBO" version
"$bin/lnd" --version

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
go run "$STATICCHECK" ./...

step "go test"
go test -race -count=1 -timeout 30m "$@" ./...
