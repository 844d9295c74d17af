package custody

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
)

// reader reads the fields of one encoding in order; the first failure
// sticks, so a decoder reads every field and checks err once.
type reader struct {
	b   []byte
	err error
	msg string // the message being decoded, for errors
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("custody: decoding %s: %s", r.msg, fmt.Sprintf(format, args...))
	}
}

func (r *reader) next(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail("%s: %d bytes left, want %d", what, len(r.b), n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8(what string) uint8 {
	v := r.next(1, what)
	if v == nil {
		return 0
	}
	return v[0]
}

func (r *reader) u64(what string) uint64 {
	v := r.next(8, what)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// vec reads a 2-byte big-endian length then that many bytes, between lo
// and hi.
func (r *reader) vec(lo, hi int, what string) []byte {
	v := r.next(2, what+" length")
	if v == nil {
		return nil
	}
	n := int(binary.BigEndian.Uint16(v))
	if n < lo || n > hi {
		r.fail("%s is %d bytes, want %d to %d", what, n, lo, hi)
		return nil
	}
	return r.next(n, what)
}

func (r *reader) key(what string) ed25519.PublicKey {
	return ed25519.PublicKey(r.next(ed25519.PublicKeySize, what))
}

func (r *reader) header(magic string) {
	if m := r.next(len(magic), "magic"); m != nil && string(m) != magic {
		r.fail("starts with %q, want %q", m, magic)
	}
	if v := r.u8("version"); r.err == nil && v != version {
		r.fail("version %d, want %d", v, version)
	}
}

// end fails unless every byte was read.
func (r *reader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	return r.err
}

func appendVec(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// ErrBadSignature is wrapped by every error about a signature that does
// not verify.
var ErrBadSignature = errors.New("bad signature")

// verify checks sig, by key, over context followed by msg.
func verify(key ed25519.PublicKey, context string, msg, sig []byte) error {
	if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, signed(context, msg), sig) {
		return ErrBadSignature
	}
	return nil
}

func signed(context string, msg []byte) []byte {
	return append([]byte(context), msg...)
}
