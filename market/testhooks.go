//go:build !shardcasttest

package market

// testHooks inject failures into a Server, for tests of what the rest of
// the network does about them. A normal build has none: buildTestHooks
// returns nothing, and no environment variable is read. A build with the
// tag shardcasttest (see testhooks_shardcasttest.go) takes them from the
// environment; the package's own tests set them directly.
type testHooks struct {
	// afterCommit runs once a sale or donation is durable, before the
	// delivery is sent and before Events hears of it.
	afterCommit func()
	// seal sees the encoded shares of every locked offer before they are
	// sealed, and may change them.
	seal func(o *Offer, plain []byte)
}

func buildTestHooks() testHooks { return testHooks{} }
