package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ipfs/go-cid"

	"github.com/shardcast/shardcast/content"
	"github.com/shardcast/shardcast/httpapi"
	"github.com/shardcast/shardcast/internal/repo"
	"github.com/shardcast/shardcast/market"
	"github.com/shardcast/shardcast/pay"
	"github.com/shardcast/shardcast/pool"
)

// Check audits the repo of a running node: see CheckRepo. It reads the
// node's own open ledger and test rail (or opens them, on an offline node).
func (n *Node) Check(ctx context.Context) (httpapi.CheckResponse, error) {
	if n.ledger != nil && n.testRail != nil {
		return audit(ctx, n.repo, n.ledger, n.testRail, n.store, nil)
	}
	return checkWith(ctx, n.repo, n.store)
}

// CheckRepo audits a repo no daemon runs on (the caller holds its lock),
// as a user would with `shardcast check`: the ledger's invariants, the test
// rail's, every payment of the test rail matched by a delivered purchase
// or a refund, no share index sold twice, the pool's files, and every block
// hashing to its CID. It changes nothing, and never creates a database
// that is missing. Each problem is one line of the result.
func CheckRepo(ctx context.Context, r *repo.Repo) (httpapi.CheckResponse, error) {
	store, err := content.OpenStore(r.Path(repo.BlocksDir), nil)
	if err != nil {
		return httpapi.CheckResponse{}, err
	}
	defer store.Close()
	return checkWith(ctx, r, store)
}

// checkWith opens the repo's money databases, if they exist, and audits.
func checkWith(ctx context.Context, r *repo.Repo, store *content.Store) (httpapi.CheckResponse, error) {
	var pre []string
	exist := true
	for _, name := range moneyDBs {
		if err := checkMoneyDB(r, name); err != nil {
			pre = append(pre, err.Error())
			exist = false
			continue
		}
		if _, err := os.Stat(r.Path(name)); errors.Is(err, fs.ErrNotExist) {
			exist = false // never created: no daemon ran online on this repo
		}
	}
	if !exist {
		return audit(ctx, r, nil, nil, store, pre)
	}
	raw, err := r.Key.Raw()
	if err != nil || len(raw) != ed25519.PrivateKeySize {
		return httpapi.CheckResponse{}, fmt.Errorf("reading the peer key: not an Ed25519 key (%v)", err)
	}
	rail, err := pay.OpenTestRail(r.Path(testRailFile), ed25519.PrivateKey(raw), nil)
	if err != nil {
		return audit(ctx, r, nil, nil, store, append(pre, err.Error()))
	}
	defer rail.Close()
	ledger, err := market.OpenLedger(r.Path(ledgerFile))
	if err != nil {
		return audit(ctx, r, nil, nil, store, append(pre, err.Error()))
	}
	defer ledger.Close()
	return audit(ctx, r, ledger, rail, store, pre)
}

// audit runs every check; ledger and rail may be nil (none to check).
func audit(ctx context.Context, r *repo.Repo, ledger *market.Ledger, rail *pay.TestRail, store *content.Store, problems []string) (httpapi.CheckResponse, error) {
	add := func(err error) {
		if err == nil {
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				problems = append(problems, e.Error())
			}
			return
		}
		problems = append(problems, err.Error())
	}
	if ledger != nil && rail != nil {
		add(ledger.Check(ctx))
		add(ledger.CheckSold(ctx))
		add(rail.Check(ctx))
		add(ledger.CheckPurchases(ctx, rail))
	}
	for _, err := range pool.Check(r.Path(poolDir)) {
		add(err)
	}
	n, err := store.Scan(ctx, func(c cid.Cid, err error) error {
		problems = append(problems, fmt.Sprintf("block %s: %v", c, err))
		return nil
	})
	if err != nil {
		return httpapi.CheckResponse{}, err
	}
	if problems == nil {
		problems = []string{}
	}
	return httpapi.CheckResponse{Problems: problems, Blocks: n}, nil
}

// VerifyBlocks hashes every block in the store against its CID and fetches
// again from peers each one that does not match (through the block
// service's refetch, so the repair is logged like one made on a read).
func (n *Node) VerifyBlocks(ctx context.Context) (httpapi.VerifyResponse, error) {
	var bad []httpapi.BadBlock
	var cids []cid.Cid
	count, err := n.store.Scan(ctx, func(c cid.Cid, err error) error {
		bad = append(bad, httpapi.BadBlock{CID: c.String(), Problem: err.Error()})
		cids = append(cids, c)
		return nil
	})
	if err != nil {
		return httpapi.VerifyResponse{}, err
	}
	for i, c := range cids {
		n.log.Warn("repo verify: block does not hash to its CID", "cid", c)
		if _, err := n.local.Repair(ctx, c); err != nil {
			bad[i].Error = err.Error()
		} else {
			bad[i].Repaired = true
		}
	}
	if bad == nil {
		bad = []httpapi.BadBlock{}
	}
	return httpapi.VerifyResponse{Blocks: count, Bad: bad}, nil
}

// VerifyRepo hashes every block of a repo no daemon runs on (the caller
// holds its lock) and reports those that do not match; with no network it
// repairs nothing and changes nothing.
func VerifyRepo(ctx context.Context, r *repo.Repo) (httpapi.VerifyResponse, error) {
	store, err := content.OpenStore(r.Path(repo.BlocksDir), nil)
	if err != nil {
		return httpapi.VerifyResponse{}, err
	}
	defer store.Close()
	bad := []httpapi.BadBlock{}
	count, err := store.Scan(ctx, func(c cid.Cid, err error) error {
		bad = append(bad, httpapi.BadBlock{CID: c.String(), Problem: err.Error(), Error: "no daemon runs to fetch it from peers"})
		return nil
	})
	if err != nil {
		return httpapi.VerifyResponse{}, err
	}
	return httpapi.VerifyResponse{Blocks: count, Bad: bad}, nil
}
