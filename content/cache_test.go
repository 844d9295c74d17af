package content

import (
	"bytes"
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

func TestWriteBehind(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := NewWriteBehind(s.Blocks)
	ctx := context.Background()
	var all []blocks.Block
	for i := range 200 {
		b := blocks.NewBlock(bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 100))
		all = append(all, b)
		if err := w.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		// Readable at once, whether or not it reached the disk yet.
		got, err := w.Get(ctx, b.Cid())
		if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("Get right after Put: %v", err)
		}
		if ok, _ := w.Has(ctx, b.Cid()); !ok {
			t.Fatal("Has right after Put is false")
		}
	}
	w.Close()
	for _, b := range all {
		got, err := s.Blocks.Get(ctx, b.Cid())
		if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("block %s not on disk after Close: %v", b.Cid(), err)
		}
	}
}
