package xfer

import (
	"bufio"
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/blockstore"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// streamTimeout bounds one request: a peer that stops reading is dropped.
const streamTimeout = time.Minute

// Server counts what it served.
type Server struct {
	// Blocks and Bytes count the blocks served and their bytes.
	Blocks, Bytes atomic.Int64
}

// Serve answers xfer requests on h from bs until h closes, over Protocol11
// and, for older peers, Protocol.
func Serve(h host.Host, bs blockstore.Blockstore, log *slog.Logger) *Server {
	srv := &Server{}
	open := &streams11{n: map[peer.ID]int{}}
	h.SetStreamHandler(Protocol11, func(s network.Stream) {
		p := s.Conn().RemotePeer()
		if !open.acquire(p) {
			log.Debug("xfer: too many streams", "peer", p)
			s.Reset()
			return
		}
		defer open.release(p)
		if err := srv.serve11(s, bs); err != nil {
			log.Debug("xfer stream", "peer", p, "err", err)
			s.Reset()
			return
		}
		s.Close()
	})
	h.SetStreamHandler(Protocol, func(s network.Stream) {
		defer s.Close()
		s.SetDeadline(time.Now().Add(streamTimeout))
		if err := srv.serve(s, bs); err != nil {
			log.Debug("xfer request", "peer", s.Conn().RemotePeer(), "err", err)
			s.Reset()
		}
	})
	return srv
}

func (srv *Server) serve(s network.Stream, bs blockstore.Blockstore) error {
	cids, err := readRequest(bufio.NewReader(s))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), streamTimeout)
	defer cancel()
	w := bufio.NewWriterSize(s, 64<<10)
	for _, c := range cids {
		var data []byte
		b, err := bs.Get(ctx, c)
		switch {
		case err == nil:
			data = b.RawData()
		case ipld.IsNotFound(err):
		default:
			return err
		}
		if err := writeBlock(w, data, err == nil); err != nil {
			return err
		}
		if data != nil {
			srv.Blocks.Add(1)
			srv.Bytes.Add(int64(len(data)))
		}
	}
	return w.Flush()
}
