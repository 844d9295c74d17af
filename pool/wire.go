package pool

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"

	"github.com/shardcast/shardcast/shares"
)

// The formats of this file are described in the package documentation.

const (
	// MaxBatch is the most shares one gossip message carries: 36 KiB, which
	// a node verifies in about 10 ms on two cores. Publish splits larger
	// batches.
	MaxBatch = 1024

	kindShares byte = 'S' // a gossip message carrying shares

	messageHeader = 1 + 2 // kind, count

	snapshotMagic   = "SCPS"
	snapshotVersion = 1
	// maxCIDSize bounds the campaign ID in a snapshot or request; a CIDv1
	// with a sha2-256 multihash is 36 bytes.
	maxCIDSize = 128
	// maxSnapshotHeader is the longest a snapshot's fixed part can be.
	maxSnapshotHeader = len(snapshotMagic) + 1 + maxCIDSize + 4

	requestVersion = 1
	// maxRequest is the longest sync request: version and two CIDs.
	maxRequest = 1 + 2*maxCIDSize

	statusNone     byte = 'N' // sync response: nothing the asker lacks
	statusSnapshot byte = 'S' // sync response: a snapshot follows
)

// errFormat is wrapped by every decoding error of this file.
var errFormat = errors.New("malformed")

func malformed(what string, format string, args ...any) error {
	return fmt.Errorf("pool: %s: %s: %w", what, fmt.Sprintf(format, args...), errFormat)
}

// sortShares returns shares sorted by index with exact duplicates removed.
// It reports false if two shares have the same index and different values.
func sortShares(list []shares.Share) ([]shares.Share, bool) {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b shares.Share) int {
		switch {
		case a.Index < b.Index:
			return -1
		case a.Index > b.Index:
			return 1
		}
		return 0
	})
	k := 0
	for i := range out {
		if k > 0 && out[k-1].Index == out[i].Index {
			if out[k-1].Value != out[i].Value {
				return nil, false
			}
			continue
		}
		out[k] = out[i]
		k++
	}
	return out[:k], true
}

// appendRecords appends the 36-byte encoding of every share.
func appendRecords(b []byte, list []shares.Share) []byte {
	for _, s := range list {
		b = binary.BigEndian.AppendUint32(b, s.Index)
		b = append(b, s.Value[:]...)
	}
	return b
}

// decodeRecords decodes count 36-byte records from b, which must hold
// exactly that many, and requires their indices to increase strictly.
func decodeRecords(what string, b []byte) ([]shares.Share, error) {
	out := make([]shares.Share, len(b)/shares.ShareSize)
	for i := range out {
		if err := out[i].UnmarshalBinary(b[i*shares.ShareSize : (i+1)*shares.ShareSize]); err != nil {
			return nil, malformed(what, "record %d: %v", i, err)
		}
		if i > 0 && out[i].Index <= out[i-1].Index {
			return nil, malformed(what, "record %d: index %d does not follow %d", i, out[i].Index, out[i-1].Index)
		}
	}
	return out, nil
}

// encodeMessage encodes 1 to MaxBatch shares, sorted by strictly
// increasing index, as a gossip message.
func encodeMessage(list []shares.Share) []byte {
	b := make([]byte, 0, messageHeader+len(list)*shares.ShareSize)
	b = append(b, kindShares)
	b = binary.BigEndian.AppendUint16(b, uint16(len(list)))
	return appendRecords(b, list)
}

// decodeMessage decodes a gossip message. It checks the framing and that
// each record is a well-formed share, not the shares themselves.
func decodeMessage(b []byte) ([]shares.Share, error) {
	if len(b) < messageHeader {
		return nil, malformed("message", "%d bytes", len(b))
	}
	if b[0] != kindShares {
		return nil, malformed("message", "kind %#02x", b[0])
	}
	count := int(binary.BigEndian.Uint16(b[1:]))
	if count < 1 || count > MaxBatch {
		return nil, malformed("message", "%d shares, want 1 to %d", count, MaxBatch)
	}
	if want := messageHeader + count*shares.ShareSize; len(b) != want {
		return nil, malformed("message", "%d shares in %d bytes, want %d", count, len(b), want)
	}
	return decodeRecords("message", b[messageHeader:])
}

// readCID reads a CIDv1 from the start of b whose binary form is
// canonical, and returns it with the bytes it took.
func readCID(what string, b []byte) (cid.Cid, int, error) {
	n, c, err := cid.CidFromBytes(b)
	if err != nil {
		return cid.Undef, 0, malformed(what, "CID: %v", err)
	}
	if n > maxCIDSize || c.Version() != 1 || !bytes.Equal(c.Bytes(), b[:n]) {
		return cid.Undef, 0, malformed(what, "CID %s is not a canonical CIDv1 of at most %d bytes", c, maxCIDSize)
	}
	return c, n, nil
}

// encodeSnapshot encodes the shares known of campaign id, sorted by
// strictly increasing index.
func encodeSnapshot(id cid.Cid, list []shares.Share) []byte {
	idb := id.Bytes()
	b := make([]byte, 0, len(snapshotMagic)+1+len(idb)+4+len(list)*shares.ShareSize)
	b = append(b, snapshotMagic...)
	b = append(b, snapshotVersion)
	b = append(b, idb...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(list)))
	return appendRecords(b, list)
}

// DecodeSnapshot decodes a pool snapshot: the campaign ID and its shares,
// sorted by index. It checks the framing and that every record is a
// well-formed share, not the shares against the campaign's commitments:
// Pool.Add does that.
func DecodeSnapshot(data []byte) (cid.Cid, []shares.Share, error) {
	if len(data) < len(snapshotMagic)+1 || string(data[:4]) != snapshotMagic {
		return cid.Undef, nil, malformed("snapshot", "does not start with %q", snapshotMagic)
	}
	if data[4] != snapshotVersion {
		return cid.Undef, nil, malformed("snapshot", "version %d, want %d", data[4], snapshotVersion)
	}
	id, n, err := readCID("snapshot", data[5:])
	if err != nil {
		return cid.Undef, nil, err
	}
	rest := data[5+n:]
	if len(rest) < 4 {
		return cid.Undef, nil, malformed("snapshot", "truncated before the share count")
	}
	count := uint64(binary.BigEndian.Uint32(rest))
	if count > shares.MaxShares {
		return cid.Undef, nil, malformed("snapshot", "%d shares, more than %d", count, shares.MaxShares)
	}
	if want := 4 + count*shares.ShareSize; uint64(len(rest)) != want {
		return cid.Undef, nil, malformed("snapshot", "%d shares in %d bytes, want %d", count, len(rest), want)
	}
	list, err := decodeRecords("snapshot", rest[4:])
	if err != nil {
		return cid.Undef, nil, err
	}
	return id, list, nil
}

// snapshotCID is the CID of a snapshot: CIDv1, raw codec, sha2-256.
func snapshotCID(data []byte) cid.Cid {
	sum := sha256.Sum256(data)
	mh, err := multihash.Encode(sum[:], multihash.SHA2_256)
	if err != nil {
		panic("pool: encoding a sha2-256 multihash: " + err.Error())
	}
	return cid.NewCidV1(cid.Raw, mh)
}

// encodeRequest encodes a sync request for campaign id; have is the CID
// of the asker's current snapshot, or cid.Undef if it knows no share.
func encodeRequest(id cid.Cid, have cid.Cid) []byte {
	b := append([]byte{requestVersion}, id.Bytes()...)
	if have.Defined() {
		b = append(b, have.Bytes()...)
	}
	return b
}

// decodeRequest decodes a sync request.
func decodeRequest(b []byte) (id, have cid.Cid, err error) {
	if len(b) < 1 || b[0] != requestVersion {
		return cid.Undef, cid.Undef, malformed("sync request", "does not start with version %d", requestVersion)
	}
	id, n, err := readCID("sync request", b[1:])
	if err != nil {
		return cid.Undef, cid.Undef, err
	}
	rest := b[1+n:]
	if len(rest) == 0 {
		return id, cid.Undef, nil
	}
	have, n, err = readCID("sync request", rest)
	if err != nil {
		return cid.Undef, cid.Undef, err
	}
	if n != len(rest) {
		return cid.Undef, cid.Undef, malformed("sync request", "%d bytes after the snapshot CID", len(rest)-n)
	}
	if p := have.Prefix(); p.Codec != cid.Raw || p.MhType != multihash.SHA2_256 || p.MhLength != sha256.Size {
		return cid.Undef, cid.Undef, malformed("sync request", "snapshot CID %s is not raw sha2-256", have)
	}
	return id, have, nil
}
