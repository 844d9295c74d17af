package content

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
)

// BenchmarkStoreRead reads a 64 MiB file from the on-disk store (in the
// page cache after the first run) through a block service, with every
// block hashed against its CID (verified, as a node reads) and without
// (plain, the store underneath): the cost of the check on a local read.
func BenchmarkStoreRead(b *testing.B) {
	const size = 64 << 20
	s, err := OpenStore(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	root, _, err := Import(context.Background(), s.Blocks, bytes.NewReader(randBytes(7, size)))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		bs   blockstore.Blockstore
	}{{"plain", s.raw}, {"verified", s.Blocks}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				ctx := context.Background()
				f, err := Open(ctx, blockservice.New(tc.bs, nil), root)
				if err != nil {
					b.Fatal(err)
				}
				r := f.NewReader(ctx, 0, -1)
				if n, err := io.Copy(io.Discard, r); err != nil || n != size {
					b.Fatalf("read %d bytes: %v", n, err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkCheck hashes one 1 MiB leaf against its CID.
func BenchmarkCheck(b *testing.B) {
	data := randBytes(8, LeafSize)
	c, err := cid.V1Builder{Codec: cid.Raw, MhType: multihash.SHA2_256}.Sum(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(LeafSize)
	for b.Loop() {
		if err := Check(c, data); err != nil {
			b.Fatal(err)
		}
	}
}
