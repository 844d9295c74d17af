package campaign

import (
	"bytes"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	cid "github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/codec"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/datamodel"
	"github.com/ipld/go-ipld-prime/fluent/qp"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestRoundTrip(t *testing.T) {
	for _, model := range testModels {
		t.Run(string(model), func(t *testing.T) {
			m, data, id := signed(t, model)
			if got := ID(data); !got.Equals(id) {
				t.Errorf("ID(data) = %s, want %s", got, id)
			}
			if id.Prefix().Codec != cid.DagCBOR || id.Version() != 1 {
				t.Errorf("ID %s: got codec %x version %d, want dag-cbor CIDv1", id, id.Prefix().Codec, id.Version())
			}
			got, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("Decode(Encode(m)):\ngot  %+v\nwant %+v", got, m)
			}
			again, id2, err := Encode(got)
			if err != nil || !bytes.Equal(again, data) || !id2.Equals(id) {
				t.Errorf("re-encoding: got %s, %v; want identical bytes and %s", id2, err, id)
			}
		})
	}
}

// TestLinks checks that content and commitments are real IPLD links (CBOR
// tag 42), which is what lets IPLD tooling traverse a manifest.
func TestLinks(t *testing.T) {
	_, data, _ := signed(t, ModelShards)
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	n := nb.Build()
	for _, k := range []string{kContent, kCommitments} {
		v, err := n.LookupByString(k)
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind() != datamodel.Kind_Link {
			t.Errorf("%s: got kind %s, want link", k, v.Kind())
		}
	}
	if !bytes.Contains(data, []byte{0xd8, 0x2a}) {
		t.Errorf("encoding has no CBOR tag 42")
	}
}

func TestValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		name  string
		model Model
		edit  func(m *Manifest)
		want  string // substring of the error; "" means valid
	}{
		{"open valid", ModelOpen, func(m *Manifest) {}, ""},
		{"pay valid", ModelPay, func(m *Manifest) {}, ""},
		{"shards valid", ModelShards, func(m *Manifest) {}, ""},
		{"shards without goal", ModelShards, func(m *Manifest) { m.Goal = 0; m.Shards = 1000 }, ""},
		{"shards without schedule", ModelShards, func(m *Manifest) { m.Schedule = nil; m.Shards = 400 }, ""},
		{"shards one share", ModelShards, func(m *Manifest) { m.Goal, m.Schedule, m.Shards = 0, nil, 1 }, ""},
		{"shards max shares", ModelShards, func(m *Manifest) { m.Goal, m.Shards = 0, MaxShares }, ""},
		{"title at limit", ModelOpen, func(m *Manifest) { m.Title = long(MaxTitle) }, ""},
		{"open without goal", ModelOpen, func(m *Manifest) { m.Goal, m.Suggested = 0, nil }, ""},

		{"unknown model", ModelOpen, func(m *Manifest) { m.Model = "free" }, "model"},
		{"empty title", ModelOpen, func(m *Manifest) { m.Title = " " }, "title: empty"},
		{"long title", ModelOpen, func(m *Manifest) { m.Title = long(MaxTitle + 1) }, "title: 201"},
		{"title newline", ModelOpen, func(m *Manifest) { m.Title = "a\nb" }, "title: control"},
		{"title not utf-8", ModelOpen, func(m *Manifest) { m.Title = "a\xffb" }, "UTF-8"},
		{"long description", ModelOpen, func(m *Manifest) { m.Description = long(MaxDescription + 1) }, "description: 10001"},
		{"description NUL", ModelOpen, func(m *Manifest) { m.Description = "a\x00" }, "description: control"},
		{"no content", ModelOpen, func(m *Manifest) { m.Content = cid.Undef }, "content: missing"},
		{"negative size", ModelOpen, func(m *Manifest) { m.ContentSize = -1 }, "content_size"},
		{"no media type", ModelOpen, func(m *Manifest) { m.MediaType = "" }, "media_type: missing"},
		{"bad media type", ModelOpen, func(m *Manifest) { m.MediaType = "video webm" }, "media_type"},
		{"no created", ModelOpen, func(m *Manifest) { m.Created = time.Time{} }, "created: missing"},
		{"created before 1970", ModelOpen, func(m *Manifest) { m.Created = time.Unix(-5, 0) }, "created"},
		{"lower-case currency", ModelOpen, func(m *Manifest) { m.Currency = "usd" }, "currency"},
		{"short currency", ModelOpen, func(m *Manifest) { m.Currency = "US" }, "currency"},
		{"long currency", ModelOpen, func(m *Manifest) { m.Currency = "USDOLL" }, "currency"},
		{"no rails", ModelOpen, func(m *Manifest) { m.Rails = nil }, "rails"},
		{"rail twice", ModelOpen, func(m *Manifest) { m.Rails = []string{"test", "test"} }, "twice"},
		{"bad rail name", ModelOpen, func(m *Manifest) { m.Rails = []string{"Test"} }, "bad name"},
		{"too many rails", ModelOpen, func(m *Manifest) {
			m.Rails = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"}
		}, "rails"},
		{"creator without key", ModelOpen, func(m *Manifest) { m.Creator = "x" }, "one without the other"},
		{"short sig", ModelOpen, func(m *Manifest) { m.Sig = []byte{1} }, "sig"},
		{"negative goal", ModelOpen, func(m *Manifest) { m.Goal = -1 }, "negative"},

		{"open price", ModelOpen, func(m *Manifest) { m.Price = 1 }, "price: not allowed"},
		{"open shards", ModelOpen, func(m *Manifest) { m.Shards = 1 }, "shards: not allowed"},
		{"open deadline", ModelOpen, func(m *Manifest) { m.Deadline = testCreated.Add(time.Hour) }, "deadline: not allowed"},
		{"open commitments", ModelOpen, func(m *Manifest) { m.Commitments = rawCID("c") }, "commitments: not allowed"},
		{"open shortfall", ModelOpen, func(m *Manifest) { m.Shortfall = ShortfallLocked }, "shortfall: not allowed"},
		{"open zero suggestion", ModelOpen, func(m *Manifest) { m.Suggested = []int64{0} }, "suggested"},
		{"open many suggestions", ModelOpen, func(m *Manifest) { m.Suggested = make([]int64, MaxSuggested+1) }, "suggested"},

		{"pay no price", ModelPay, func(m *Manifest) { m.Price = 0 }, "price: must be positive"},
		{"pay negative price", ModelPay, func(m *Manifest) { m.Price = -1 }, "negative"},
		{"pay goal", ModelPay, func(m *Manifest) { m.Goal = 5 }, "goal: not allowed"},
		{"pay suggested", ModelPay, func(m *Manifest) { m.Suggested = []int64{5} }, "suggested: not allowed"},
		{"pay shards", ModelPay, func(m *Manifest) { m.Shards = 5 }, "shards: not allowed"},
		{"pay schedule", ModelPay, func(m *Manifest) { m.Schedule = []Tier{{1, 1}} }, "schedule: not allowed"},
		{"pay all or nothing", ModelPay, func(m *Manifest) { m.AllOrNothing = true }, "all_or_nothing: not allowed"},

		{"shards no price", ModelShards, func(m *Manifest) { m.Price = 0 }, "price: must be positive"},
		{"shards zero N", ModelShards, func(m *Manifest) { m.Shards = 0 }, "shards: 0"},
		{"shards too many", ModelShards, func(m *Manifest) { m.Goal, m.Shards = 0, MaxShares+1 }, "shards: 10000001"},
		{"shards no commitments", ModelShards, func(m *Manifest) { m.Commitments = cid.Undef }, "commitments: missing"},
		{"shards no X", ModelShards, func(m *Manifest) { m.SecretCommitment = nil }, "secret_commitment: missing"},
		{"shards short X", ModelShards, func(m *Manifest) { m.SecretCommitment = make([]byte, 31) }, "secret_commitment: 31"},
		{"shards no deadline", ModelShards, func(m *Manifest) { m.Deadline = time.Time{} }, "deadline: missing"},
		{"shards early deadline", ModelShards, func(m *Manifest) { m.Deadline = testCreated }, "not after created"},
		{"shards no shortfall", ModelShards, func(m *Manifest) { m.Shortfall = "" }, "shortfall"},
		{"shards bad shortfall", ModelShards, func(m *Manifest) { m.Shortfall = "refund" }, "shortfall"},
		{"shards suggested", ModelShards, func(m *Manifest) { m.Suggested = []int64{1} }, "suggested: not allowed"},
		{"shards tier count", ModelShards, func(m *Manifest) { m.Schedule = []Tier{{0, 150}} }, "tier 0"},
		{"shards tier price", ModelShards, func(m *Manifest) { m.Schedule = []Tier{{100, 0}} }, "tier 0"},
		{"shards tiers beyond N", ModelShards, func(m *Manifest) { m.Goal, m.Schedule = 0, []Tier{{300, 1}, {300, 2}} }, "more than"},
		{"shards many tiers", ModelShards, func(m *Manifest) { m.Goal, m.Schedule = 0, make([]Tier, MaxTiers+1) }, "tiers"},
		{"shards N above goal", ModelShards, func(m *Manifest) { m.Shards = 441 }, "goal"},
		{"shards N below goal", ModelShards, func(m *Manifest) { m.Shards = 439 }, "goal"},
		{"shards overflow", ModelShards, func(m *Manifest) { m.Goal, m.Price = 0, 1<<62 }, "overflows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testManifest(tt.model)
			tt.edit(m)
			err := m.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want valid", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			case err != nil && !errors.Is(err, ErrBadManifest):
				t.Errorf("got %v, want it to wrap ErrBadManifest", err)
			}
			if tt.want == "" {
				if err := m.Sign(testKey(t, "creator")); err != nil {
					t.Fatalf("Sign: %v", err)
				}
				data, _, err := Encode(m)
				if err != nil {
					t.Fatalf("Encode: %v", err)
				}
				if _, err := Decode(data); err != nil {
					t.Errorf("Decode: %v", err)
				}
			}
		})
	}
}

// TestTamper flips every bit pattern of every byte of each model's
// encoding and truncates it at every length: each must be rejected.
func TestTamper(t *testing.T) {
	for _, model := range testModels {
		_, data, _ := signed(t, model)
		for i := range data {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(data)
				bad[i] ^= mask
				if m, err := Decode(bad); err == nil {
					t.Fatalf("%s: byte %d ^ %#x: accepted %+v", model, i, mask, m)
				} else if !errors.Is(err, ErrBadManifest) {
					t.Fatalf("%s: byte %d ^ %#x: got %v, want ErrBadManifest", model, i, mask, err)
				}
			}
		}
		for n := range len(data) {
			if _, err := Decode(data[:n]); !errors.Is(err, ErrBadManifest) {
				t.Fatalf("%s: truncated to %d bytes: got %v, want ErrBadManifest", model, n, err)
			}
		}
		if _, err := Decode(append(bytes.Clone(data), 0)); !errors.Is(err, ErrBadManifest) {
			t.Errorf("%s: trailing byte: got %v, want ErrBadManifest", model, err)
		}
	}
}

// TestForgery covers manifests that are well formed but not the
// creator's: another key's identity on the creator's signature, another
// key's signature on the creator's identity, no signature at all, and a
// signature over other content.
func TestForgery(t *testing.T) {
	creator, other := testKey(t, "creator"), testKey(t, "other")
	otherKey, otherID, err := keyIdentity(other)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		make func() *Manifest
		sig  bool
	}{
		{"identity swapped", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(creator))
			m.Creator, m.CreatorKey = otherID, otherKey
			return m
		}, true},
		{"signed by another key", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(other))
			sig := m.Sig
			must(t, m.Sign(creator))
			m.Sig = sig
			return m
		}, true},
		{"key without its peer ID", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(creator))
			m.CreatorKey = otherKey
			return m
		}, true},
		{"signature stripped", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(creator))
			m.Sig = nil
			return m
		}, false},
		{"price changed after signing", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(creator))
			m.Price = 1
			return m
		}, true},
		{"signature of the state context", func() *Manifest {
			m := testManifest(ModelPay)
			must(t, m.Sign(creator))
			unsigned, _ := m.encode(false)
			m.Sig, _ = signPayload(creator, stateContext, unsigned)
			return m
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.make()
			data, err := m.encode(tt.sig)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := Decode(data); !errors.Is(err, ErrBadManifest) {
				t.Errorf("Decode: got %+v, %v; want ErrBadManifest", got, err)
			}
			if _, _, err := Encode(m); !errors.Is(err, ErrBadManifest) {
				t.Errorf("Encode: got %v, want ErrBadManifest", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestNotCanonical feeds manifests that decode to a valid, correctly
// signed manifest but are not its canonical encoding: each would give the
// same campaign a second ID.
func TestNotCanonical(t *testing.T) {
	m, data, _ := signed(t, ModelOpen)
	nb := basicnode.Prototype.Any.NewBuilder()
	must(t, dagcbor.Decode(nb, bytes.NewReader(data)))
	n := nb.Build()

	reencode := func(set map[string]qp.Assemble, sorted bool) []byte {
		var keys []string
		vals := map[string]qp.Assemble{}
		it := n.MapIterator()
		for !it.Done() {
			k, v, _ := it.Next()
			ks, _ := k.AsString()
			keys, vals[ks] = append(keys, ks), qp.Node(v)
		}
		for k, a := range set {
			if _, ok := vals[k]; !ok {
				keys = append(keys, k)
			}
			vals[k] = a
		}
		if !sorted {
			sort.Strings(keys) // plain byte order, not DAG-CBOR's length first
		}
		built, err := qp.BuildMap(basicnode.Prototype.Any, -1, func(ma datamodel.MapAssembler) {
			for _, k := range keys {
				qp.MapEntry(ma, k, vals[k])
			}
		})
		must(t, err)
		mode := codec.MapSortMode_None
		if sorted {
			mode = codec.MapSortMode_RFC7049
		}
		var buf bytes.Buffer
		must(t, dagcbor.EncodeOptions{AllowLinks: true, MapSortMode: mode}.Encode(built, &buf))
		return buf.Bytes()
	}
	type set = map[string]qp.Assemble
	tests := []struct {
		name string
		data []byte
	}{
		{"explicit zero price", reencode(set{kPrice: qp.Int(0)}, true)},
		{"explicit false", reencode(set{kAllOrNothing: qp.Bool(false)}, true)},
		{"unknown field", reencode(set{"extra": qp.Int(1)}, true)},
		{"keys sorted by bytes", reencode(set{}, false)},
		{"creator as a CID", reencode(set{kCreator: qp.String(peer.ToCid(m.Creator).String())}, true)},
		{"version 2", reencode(set{kVersion: qp.Int(2)}, true)},
	}
	// The canonical sort is length first: a plain byte sort must differ.
	if bytes.Equal(tests[3].data, data) {
		t.Fatal("unsorted encoding equals the canonical one; the test is moot")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.data)
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("got %+v, %v; want ErrBadManifest", got, err)
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestDecodeLimits(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"too large", make([]byte, MaxManifestSize+1)},
		{"not a map", []byte{0x01}},
		{"deep nesting", bytes.Repeat([]byte{0x81}, 100)},
		{"huge declared map", []byte{0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"huge declared string", []byte{0xa1, 0x7b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"uint beyond int64", []byte{0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data)
			if !errors.Is(err, ErrBadManifest) {
				t.Fatalf("got %v, want ErrBadManifest", err)
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func TestSignRejectsInvalid(t *testing.T) {
	m := testManifest(ModelPay)
	m.Price = 0
	if err := m.Sign(testKey(t, "creator")); !errors.Is(err, ErrBadManifest) {
		t.Errorf("got %v, want ErrBadManifest", err)
	}
	if err := testManifest(ModelPay).Sign(nil); !errors.Is(err, ErrBadManifest) {
		t.Errorf("nil key: got %v, want ErrBadManifest", err)
	}
	if _, _, err := Encode(testManifest(ModelPay)); !errors.Is(err, ErrBadManifest) {
		t.Errorf("Encode unsigned: got %v, want ErrBadManifest", err)
	}
}
