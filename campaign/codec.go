package campaign

import (
	"bytes"
	"fmt"

	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multihash"
)

// ID returns the content address of an encoded manifest (or any DAG-CBOR
// block): CIDv1, codec dag-cbor, multihash sha2-256. It does not check that
// data is a valid manifest; Decode does.
func ID(data []byte) cid.Cid {
	mh, err := multihash.Sum(data, multihash.SHA2_256, -1)
	if err != nil { // cannot happen for sha2-256
		return cid.Undef
	}
	return cid.NewCidV1(cid.DagCBOR, mh)
}

// encodeOpts is canonical DAG-CBOR: shortest integer and length forms,
// map keys sorted by length then bytes, links as tag 42.
var encodeOpts = dagcbor.EncodeOptions{AllowLinks: true, MapSortMode: codec.MapSortMode_RFC7049}

// decodeOpts bounds the decoder well below its defaults: a manifest is a
// map holding lists of small maps, so depth 4 is plenty.
var decodeOpts = dagcbor.DecodeOptions{
	AllowLinks:            true,
	AllocationBudget:      1 << 20,
	MaxCollectionPrealloc: 64,
	MaxDepth:              4,
}

// entry is one key of a map being built; the encoder sorts the keys.
type entry struct {
	key string
	val qp.Assemble
}

func encodeMap(entries []entry) ([]byte, error) {
	n, err := qp.BuildMap(basicnode.Prototype.Any, int64(len(entries)), func(ma datamodel.MapAssembler) {
		for _, e := range entries {
			qp.MapEntry(ma, e.key, e.val)
		}
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := encodeOpts.Encode(n, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func linkVal(c cid.Cid) qp.Assemble { return qp.Link(cidlink.Link{Cid: c}) }

// fields reads the top-level map of a decoded block. Each getter removes the
// key it reads; the first error sticks; rest reports keys nobody read.
type fields struct {
	m   map[string]datamodel.Node
	err error
}

func decodeMap(data []byte) (*fields, error) {
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := decodeOpts.Decode(nb, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("not DAG-CBOR: %w", err)
	}
	n := nb.Build()
	if n.Kind() != datamodel.Kind_Map {
		return nil, fmt.Errorf("top level is a %s, want a map", n.Kind())
	}
	f := &fields{m: make(map[string]datamodel.Node, n.Length())}
	it := n.MapIterator()
	for !it.Done() {
		k, v, err := it.Next()
		if err != nil {
			return nil, err
		}
		ks, err := k.AsString()
		if err != nil {
			return nil, err
		}
		f.m[ks] = v
	}
	return f, nil
}

func (f *fields) fail(key string, err error) {
	if f.err == nil {
		f.err = fmt.Errorf("field %q: %w", key, err)
	}
}

func (f *fields) take(key string, k datamodel.Kind, required bool) datamodel.Node {
	n, ok := f.m[key]
	if !ok {
		if required {
			f.fail(key, fmt.Errorf("missing"))
		}
		return nil
	}
	delete(f.m, key)
	if n.Kind() != k {
		f.fail(key, fmt.Errorf("is a %s, want a %s", n.Kind(), k))
		return nil
	}
	return n
}

func (f *fields) str(key string, required bool) string {
	n := f.take(key, datamodel.Kind_String, required)
	if n == nil {
		return ""
	}
	s, err := n.AsString()
	if err != nil {
		f.fail(key, err)
	}
	return s
}

func (f *fields) integer(key string, required bool) int64 {
	n := f.take(key, datamodel.Kind_Int, required)
	if n == nil {
		return 0
	}
	return asInt(f, key, n)
}

func asInt(f *fields, key string, n datamodel.Node) int64 {
	if n.Kind() != datamodel.Kind_Int {
		f.fail(key, fmt.Errorf("has a %s, want an int", n.Kind()))
		return 0
	}
	v, err := n.AsInt()
	if err != nil {
		f.fail(key, err)
	}
	return v
}

func (f *fields) bytes(key string, required bool) []byte {
	n := f.take(key, datamodel.Kind_Bytes, required)
	if n == nil {
		return nil
	}
	b, err := n.AsBytes()
	if err != nil {
		f.fail(key, err)
	}
	return b
}

func (f *fields) boolean(key string, required bool) bool {
	n := f.take(key, datamodel.Kind_Bool, required)
	if n == nil {
		return false
	}
	b, err := n.AsBool()
	if err != nil {
		f.fail(key, err)
	}
	return b
}

func (f *fields) link(key string, required bool) cid.Cid {
	n := f.take(key, datamodel.Kind_Link, required)
	if n == nil {
		return cid.Undef
	}
	l, err := n.AsLink()
	if err != nil {
		f.fail(key, err)
		return cid.Undef
	}
	cl, ok := l.(cidlink.Link)
	if !ok {
		f.fail(key, fmt.Errorf("link is not a CID"))
		return cid.Undef
	}
	return cl.Cid
}

// list returns the elements of a list of at most max entries.
func (f *fields) list(key string, max int) []datamodel.Node {
	n := f.take(key, datamodel.Kind_List, false)
	if n == nil {
		return nil
	}
	if n.Length() > int64(max) {
		f.fail(key, fmt.Errorf("%d entries, at most %d allowed", n.Length(), max))
		return nil
	}
	out := make([]datamodel.Node, 0, n.Length())
	it := n.ListIterator()
	for !it.Done() {
		_, v, err := it.Next()
		if err != nil {
			f.fail(key, err)
			return nil
		}
		out = append(out, v)
	}
	return out
}

// rest reports the first error or the first unknown key.
func (f *fields) rest() error {
	if f.err != nil {
		return f.err
	}
	for k := range f.m {
		return fmt.Errorf("unknown field %q", k)
	}
	return nil
}

// Signature contexts: a signature covers the context string followed by the
// canonical encoding of the record without its "sig" field, so a signature
// made for one kind of record never verifies as another.
const (
	manifestContext = "shardcast-manifest-v1:"
	stateContext    = "shardcast-state-v1:"
)

// ed25519SigSize is the length of an Ed25519 signature.
const ed25519SigSize = 64

// signPayload signs context || unsigned.
func signPayload(k crypto.PrivKey, context string, unsigned []byte) ([]byte, error) {
	return k.Sign(append([]byte(context), unsigned...))
}

// creatorKey parses a creator's public key: an Ed25519 libp2p key in its
// canonical protobuf form.
func creatorKey(b []byte) (crypto.PubKey, error) {
	pub, err := crypto.UnmarshalPublicKey(b)
	if err != nil {
		return nil, err
	}
	if pub.Type() != pb.KeyType_Ed25519 {
		return nil, fmt.Errorf("key type %s, want Ed25519", pub.Type())
	}
	canon, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(canon, b) {
		return nil, fmt.Errorf("key not in canonical form")
	}
	return pub, nil
}

// verifyPayload checks sig over context || unsigned with pub.
func verifyPayload(pub crypto.PubKey, context string, unsigned, sig []byte) error {
	if len(sig) != ed25519SigSize {
		return fmt.Errorf("signature is %d bytes, want %d", len(sig), ed25519SigSize)
	}
	ok, err := pub.Verify(append([]byte(context), unsigned...), sig)
	if err != nil {
		return fmt.Errorf("verifying signature: %w", err)
	}
	if !ok {
		return fmt.Errorf("signature does not verify")
	}
	return nil
}

// keyIdentity returns the marshalled public key and peer ID of k.
func keyIdentity(k crypto.PrivKey) ([]byte, peer.ID, error) {
	if k == nil {
		return nil, "", fmt.Errorf("no key")
	}
	pub := k.GetPublic()
	if pub.Type() != pb.KeyType_Ed25519 {
		return nil, "", fmt.Errorf("key type %s, want Ed25519", pub.Type())
	}
	kb, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		return nil, "", err
	}
	return kb, id, nil
}
