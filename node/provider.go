package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	dht "github.com/libp2p/go-libp2p-kad-dht"

	"github.com/shardcast/shardcast/internal/atomicfile"
)

// rootsDir holds one empty file per root CID the node holds whole. The list
// outlives restarts, so a restarted daemon announces again what it has.
const rootsDir = "roots"

// reprovideEvery is how often every root is announced again. DHT provider
// records expire after 48 h; Kubo reprovides every 22 h.
const reprovideEvery = 12 * time.Hour

// provider announces the roots the node holds on the DHT. Announcing needs at
// least one peer in the routing table, so roots wait in a queue and are
// retried until they go through.
type provider struct {
	n    *Node
	dht  *dht.IpfsDHT // nil when offline
	wake chan struct{}

	mu      sync.Mutex
	pending map[cid.Cid]bool
}

func newProvider(n *Node, d *dht.IpfsDHT) *provider {
	return &provider{n: n, dht: d, wake: make(chan struct{}, 1), pending: map[cid.Cid]bool{}}
}

// add records c as held and queues its announcement.
func (p *provider) add(c cid.Cid) error {
	dir := p.n.repo.Path(rootsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := atomicfile.WriteFile(dir+"/"+c.String(), nil, 0o600); err != nil {
		return err
	}
	p.mu.Lock()
	p.pending[c] = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// roots lists the recorded roots.
func (p *provider) roots() ([]cid.Cid, error) {
	ents, err := os.ReadDir(p.n.repo.Path(rootsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []cid.Cid
	for _, e := range ents {
		if c, err := cid.Decode(e.Name()); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

func (p *provider) run(ctx context.Context) {
	if p.dht == nil {
		return
	}
	queueAll := func() {
		roots, err := p.roots()
		if err != nil {
			p.n.log.Warn("listing roots to announce", "err", err)
		}
		p.mu.Lock()
		for _, c := range roots {
			p.pending[c] = true
		}
		p.mu.Unlock()
	}
	queueAll()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	reprovide := time.NewTicker(reprovideEvery)
	defer reprovide.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry.C:
		case <-reprovide.C:
			queueAll()
		}
		if p.dht.RoutingTable().Size() == 0 {
			continue
		}
		p.mu.Lock()
		var batch []cid.Cid
		for c := range p.pending {
			batch = append(batch, c)
		}
		p.mu.Unlock()
		for _, c := range batch {
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			err := p.dht.Provide(pctx, c, true)
			cancel()
			if err != nil {
				p.n.log.Debug("announcing", "cid", c, "err", err)
				continue
			}
			p.mu.Lock()
			delete(p.pending, c)
			p.mu.Unlock()
		}
	}
}
