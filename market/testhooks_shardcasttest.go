//go:build shardcasttest

package market

import (
	"os"
	"syscall"
)

// testHooks inject failures into a Server. This file is compiled only with
// the build tag shardcasttest, with which the end-to-end tests build the
// daemon; a released binary has the empty hooks of testhooks.go.
type testHooks struct {
	afterCommit func()
	seal        func(o *Offer, plain []byte)
}

// The environment variables a test build reads, and their values.
const (
	// CrashPointEnv set to CrashAfterCommit makes the process kill itself
	// (SIGKILL, as a power cut) once a sale is durable and before its
	// delivery is sent.
	CrashPointEnv    = "SHARDCAST_CRASH_POINT"
	CrashAfterCommit = "market-after-commit"
	// CheatEnv set to CheatBadShare makes a creator seal a corrupted first
	// share into every locked offer while its deliveries stay honest, so
	// buyers must catch it.
	CheatEnv      = "SHARDCAST_TEST_CHEAT"
	CheatBadShare = "bad-share"
)

func buildTestHooks() testHooks {
	var h testHooks
	if os.Getenv(CrashPointEnv) == CrashAfterCommit {
		h.afterCommit = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	if os.Getenv(CheatEnv) == CheatBadShare {
		h.seal = corruptFirstShare
	}
	return h
}
