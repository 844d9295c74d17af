package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/shardcast/shardcast/flow"
)

// Peers: the bootstrap peers, the node's own ID and addresses, and dialling.

func parsePeers(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q (it needs a /p2p/ peer ID): %w", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

// bootstrapLoop keeps the bootstrap peers connected: dialled at once, then
// again whenever the connection is lost, and refreshes the DHT once a peer is
// in its table.
func (n *Node) bootstrapLoop(boot []peer.AddrInfo) {
	if len(boot) == 0 {
		return
	}
	refreshed := false
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		for _, ai := range boot {
			if len(n.host.Network().ConnsToPeer(ai.ID)) > 0 {
				continue
			}
			ctx, cancel := context.WithTimeout(n.ctx, 10*time.Second)
			if err := n.host.Connect(ctx, ai); err != nil {
				n.log.Debug("bootstrap dial failed", "peer", ai.ID, "err", err)
			} else {
				n.log.Info("connected to bootstrap peer", "peer", ai.ID)
			}
			cancel()
		}
		if !refreshed && n.dht.RoutingTable().Size() > 0 {
			refreshed = true
			go func() { <-n.dht.RefreshRoutingTable() }()
		}
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ID returns the peer ID.
func (n *Node) ID() peer.ID {
	id, _ := peer.IDFromPrivateKey(n.repo.Key)
	return id
}

// Addrs returns the peer's listen addresses, each with /p2p/ID appended.
func (n *Node) Addrs() []string {
	if n.host == nil {
		return []string{}
	}
	suffix := "/p2p/" + n.ID().String()
	var out []string
	for _, a := range n.host.Addrs() {
		out = append(out, a.String()+suffix)
	}
	return out
}

// Peers returns the connected peers.
func (n *Node) Peers() []peer.ID {
	if n.host == nil {
		return nil
	}
	return n.host.Network().Peers()
}

// ErrOffline is returned for network operations on an offline node.
var ErrOffline = flow.ErrOffline

// Connect dials the peer at a multiaddr that ends in /p2p/ID.
func (n *Node) Connect(ctx context.Context, addr string) (peer.ID, error) {
	if n.host == nil {
		return "", ErrOffline
	}
	m, err := ma.NewMultiaddr(addr)
	if err != nil {
		return "", fmt.Errorf("bad multiaddr %q: %w", addr, err)
	}
	ai, err := peer.AddrInfoFromP2pAddr(m)
	if err != nil {
		return "", fmt.Errorf("multiaddr %q has no /p2p/ peer ID: %w", addr, err)
	}
	if err := n.host.Connect(ctx, *ai); err != nil {
		return "", fmt.Errorf("connecting to %s: %w", ai.ID, err)
	}
	return ai.ID, nil
}
