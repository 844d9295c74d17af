package xfer

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
)

// Protocol11 is the libp2p protocol ID of pipelined xfer: one long-lived
// stream per peer with many wants in flight. Protocol (1.0.0) is still
// served, for peers that do not speak it.
const Protocol11 = "/shardcast/blocks/1.1.0"

// Frames of Protocol11, client to server.
const (
	frameWant   byte = 0
	frameCancel byte = 1
)

// Answer statuses of Protocol11 (statusHave and statusNotHave as in 1.0).
const statusCancelled byte = 2

// errProtocol marks a frame that breaks the protocol's rules: the stream
// is reset and the peer is not asked again on it.
var errProtocol = errors.New("xfer protocol violation")

// frame is one client frame: a want of c under id, or a cancel of id.
type frame struct {
	kind byte
	id   uint64
	c    cid.Cid // wants only
}

// appendFrame appends the encoding of f to buf.
func appendFrame(buf []byte, f frame) []byte {
	buf = append(buf, f.kind)
	buf = binary.AppendUvarint(buf, f.id)
	if f.kind == frameWant {
		b := f.c.Bytes()
		buf = binary.AppendUvarint(buf, uint64(len(b)))
		buf = append(buf, b...)
	}
	return buf
}

// readFrame decodes one client frame. io.EOF means the stream ended
// cleanly between frames.
func readFrame(r *bufio.Reader) (frame, error) {
	kind, err := r.ReadByte()
	if err != nil {
		return frame{}, err
	}
	id, err := readUvarint(r)
	if err != nil {
		return frame{}, unexpected(err)
	}
	switch kind {
	case frameCancel:
		return frame{kind: kind, id: id}, nil
	case frameWant:
	default:
		return frame{}, fmt.Errorf("%w: frame type %d", errProtocol, kind)
	}
	l, err := readUvarint(r)
	if err != nil {
		return frame{}, unexpected(err)
	}
	if l == 0 || l > maxCIDLen {
		return frame{}, fmt.Errorf("%w: CID of %d bytes", errProtocol, l)
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(r, b); err != nil {
		return frame{}, fmt.Errorf("reading want %d: %w", id, unexpected(err))
	}
	c, err := cid.Cast(b)
	if err != nil {
		return frame{}, fmt.Errorf("%w: bad CID in want %d: %v", errProtocol, id, err)
	}
	return frame{kind: kind, id: id, c: c}, nil
}

// appendAnswerHeader appends the header of the answer to want id: the
// status, and for a block its length (the block's bytes follow).
func appendAnswerHeader(buf []byte, id uint64, status byte, n int) []byte {
	buf = binary.AppendUvarint(buf, id)
	buf = append(buf, status)
	if status == statusHave {
		buf = binary.AppendUvarint(buf, uint64(n))
	}
	return buf
}

// readAnswerHeader decodes the header of an answer: the want's id, its
// status, and for a block the length of the bytes that follow (at most
// MaxBlockSize).
func readAnswerHeader(r *bufio.Reader) (id uint64, status byte, n int, err error) {
	if id, err = readUvarint(r); err != nil {
		return 0, 0, 0, err
	}
	if status, err = r.ReadByte(); err != nil {
		return 0, 0, 0, unexpected(err)
	}
	switch status {
	case statusNotHave, statusCancelled:
		return id, status, 0, nil
	case statusHave:
	default:
		return 0, 0, 0, fmt.Errorf("%w: answer status %d", errProtocol, status)
	}
	l, err := readUvarint(r)
	if err != nil {
		return 0, 0, 0, unexpected(err)
	}
	if l > MaxBlockSize {
		return 0, 0, 0, fmt.Errorf("%w: block of %d bytes (limit %d)", errProtocol, l, MaxBlockSize)
	}
	return id, status, int(l), nil
}

// readUvarint reads a uvarint of at most 10 bytes. An overlong one breaks
// the protocol; the reader's errors (EOF, a deadline, a reset) come back
// as they are, io.EOF only if no byte was read.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var shift uint
	for i := range binary.MaxVarintLen64 {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 {
				return 0, unexpected(err)
			}
			return 0, err
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break
			}
			return x | uint64(b)<<shift, nil
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, fmt.Errorf("%w: varint overflows 64 bits", errProtocol)
}

// unexpected turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
