package xfer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// Protocol is the libp2p protocol ID of xfer.
const Protocol = "/shardcast/blocks/1.0.0"

// Limits on what a peer may send.
const (
	// MaxRequest is the most CIDs one request may name.
	MaxRequest = 64
	// MaxBlockSize is the largest block accepted: the limit every IPFS
	// implementation keeps to.
	MaxBlockSize = 2 << 20
	maxCIDLen    = 128
)

const (
	statusHave    byte = 0
	statusNotHave byte = 1
)

var errNotHave = errors.New("peer does not hold the block")

// writeRequest encodes a request for cids.
func writeRequest(w io.Writer, cids []cid.Cid) error {
	buf := binary.AppendUvarint(nil, uint64(len(cids)))
	for _, c := range cids {
		b := c.Bytes()
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	_, err := w.Write(buf)
	return err
}

// readRequest decodes a request.
func readRequest(r *bufio.Reader) ([]cid.Cid, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("reading request: %w", err)
	}
	if n == 0 || n > MaxRequest {
		return nil, fmt.Errorf("request for %d blocks (1..%d)", n, MaxRequest)
	}
	out := make([]cid.Cid, 0, n)
	for range n {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("reading request: %w", err)
		}
		if l == 0 || l > maxCIDLen {
			return nil, fmt.Errorf("CID of %d bytes", l)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("reading request: %w", err)
		}
		c, err := cid.Cast(b)
		if err != nil {
			return nil, fmt.Errorf("bad CID in request: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// writeBlock encodes one answer: data, or "not held" when !have.
func writeBlock(w *bufio.Writer, data []byte, have bool) error {
	if !have {
		return w.WriteByte(statusNotHave)
	}
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = statusHave
	n := binary.PutUvarint(hdr[1:], uint64(len(data)))
	if _, err := w.Write(hdr[:1+n]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// readBlock decodes one answer and checks the bytes against c.
func readBlock(r *bufio.Reader, c cid.Cid) ([]byte, error) {
	st, err := r.ReadByte()
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	switch st {
	case statusNotHave:
		return nil, errNotHave
	case statusHave:
	default:
		return nil, fmt.Errorf("bad answer status %d", st)
	}
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("reading answer: %w", err)
	}
	if l > MaxBlockSize {
		return nil, fmt.Errorf("block of %d bytes (limit %d)", l, MaxBlockSize)
	}
	data := make([]byte, l)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("reading block: %w", err)
	}
	got, err := c.Prefix().Sum(data)
	if err != nil {
		return nil, fmt.Errorf("hashing block: %w", err)
	}
	if !got.Equals(c) {
		return nil, fmt.Errorf("%w: asked for %s, got bytes of %s", ErrWrongBlock, c, got)
	}
	return data, nil
}

// ErrWrongBlock is returned when a peer answers with bytes that do not hash
// to the CID asked for.
var ErrWrongBlock = errors.New("peer sent a block that does not match its CID")
