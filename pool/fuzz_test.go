package pool

import (
	"bytes"
	"testing"

	"github.com/shardcast/shardcast/shares"
)

// The seed corpora live in testdata/fuzz/FuzzXxx; f.Add adds a few more.

func fuzzShares(f *testing.F) []shares.Share {
	fx := newFixture(f, 3, 9)
	return fx.shares
}

func FuzzMessage(f *testing.F) {
	list := fuzzShares(f)
	f.Add(encodeMessage(list))
	f.Add(encodeMessage(list[1:2]))
	f.Add([]byte{'A', 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := decodeMessage(in)
		if err != nil {
			return
		}
		if len(got) < 1 || len(got) > MaxBatch {
			t.Fatalf("decoded %d shares", len(got))
		}
		if out := encodeMessage(got); !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
	})
}

func FuzzSnapshot(f *testing.F) {
	fx := newFixture(f, 3, 9)
	f.Add(encodeSnapshot(fx.id, fx.shares))
	f.Add(encodeSnapshot(fx.id, nil))
	f.Add(encodeSnapshot(rawCID([]byte("x")), fx.shares[2:]))
	f.Fuzz(func(t *testing.T, in []byte) {
		id, list, err := DecodeSnapshot(in)
		if err != nil {
			return
		}
		if out := encodeSnapshot(id, list); !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
		if sorted, ok := sortShares(list); !ok || len(sorted) != len(list) {
			t.Fatalf("decoded shares are not sorted and distinct")
		}
	})
}

func FuzzSyncRequest(f *testing.F) {
	fx := newFixture(f, 3, 9)
	f.Add(encodeRequest(fx.id, rawCID([]byte("a snapshot"))))
	f.Add(encodeRequest(fx.id, rawCID(nil)))
	f.Add(encodeRequest(fx.id, fx.id))
	f.Fuzz(func(t *testing.T, in []byte) {
		id, have, err := decodeRequest(in)
		if err != nil {
			return
		}
		if len(in) > maxRequest {
			t.Fatalf("accepted a request of %d bytes, more than %d", len(in), maxRequest)
		}
		if out := encodeRequest(id, have); !bytes.Equal(out, in) {
			t.Fatalf("round trip: got %x, want %x", out, in)
		}
	})
}
