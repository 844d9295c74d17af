package campaign

import "testing"

// BenchmarkDecodeManifest measures what a node pays to check a manifest
// heard on the catalog topic: parse, validate, re-encode, verify.
func BenchmarkDecodeManifest(b *testing.B) {
	_, data, _ := signed(b, ModelShards)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeState measures checking one state record.
func BenchmarkDecodeState(b *testing.B) {
	m, _, id := signed(b, ModelShards)
	data := signedState(b, testState(id))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeState(data, id, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPriceFor prices 1,000 shares across a 32-tier schedule.
func BenchmarkPriceFor(b *testing.B) {
	m := &Manifest{Model: ModelShards, Price: 250, Shards: MaxShares}
	for i := range MaxTiers {
		m.Schedule = append(m.Schedule, Tier{Count: 100, Price: int64(100 + i)})
	}
	for b.Loop() {
		if _, err := m.PriceFor(1500, 1000); err != nil {
			b.Fatal(err)
		}
	}
}
