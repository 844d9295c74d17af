// Package flow holds the workflows of a shardcast peer that cross its
// parts: publishing a campaign under each payment model, buying and
// donating, releasing shares, the deadline and pledge loop, following
// share pools, announcing a creator's figures, and driving on, after a
// restart, the purchases that were under way.
//
// Each workflow is written against small interfaces of the parts it uses
// (Blocks, Catalog, Announcer, Pool, Keystore, Seller, Buyer, Ledger,
// Network) and a clock, which package node fills with the real ones and
// the tests of this package with fakes in memory. Flow implements
// market.Events (what the market reports) and market.Source (what the
// creator's market sells).
//
// What flow promises:
//
//   - A campaign's secret (the content key, and for shards every share) is
//     in the keystore before its manifest is signed and announced; a
//     publish that fails announces nothing.
//   - Content is encrypted, imported and its key saved by one function
//     for every model that encrypts (importSealed).
//   - Two purchases of one pay campaign never run at once in one node: the
//     second waits for the first to end, and then finds the key held.
//   - At a shards campaign's deadline (not before) its pledges end, and the
//     unsold shares of a campaign that missed its goal are released when
//     its terms say so.
//   - What a purchase bought is kept (the key on disk, the shares in the
//     pool) whether or not anyone still waits for it.
//
// The rules a campaign's terms must follow live in campaign.Terms.Check,
// called once (prepareTerms) before anything is imported. Flow does not move bytes,
// open stores or speak to the network itself: node does.
package flow
