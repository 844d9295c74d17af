package campaign

import (
	"bytes"
	"testing"
)

// FuzzDecodeManifest checks that Decode never panics and that whatever it
// accepts re-encodes to the same bytes and ID.
func FuzzDecodeManifest(f *testing.F) {
	for _, model := range testModels {
		_, data, _ := signed(f, model)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		again, id, err := Encode(m)
		if err != nil {
			t.Fatalf("accepted manifest does not encode: %v", err)
		}
		if !bytes.Equal(again, data) || !id.Equals(ID(data)) {
			t.Fatalf("accepted manifest re-encodes differently:\n%x\n%x", data, again)
		}
	})
}

// FuzzDecodeState does the same for state records of the shards vector.
func FuzzDecodeState(f *testing.F) {
	m, _, id := signed(f, ModelShards)
	f.Add(signedState(f, testState(id)))
	pledged := testState(id)
	pledged.Pledged = 3
	f.Add(signedState(f, pledged))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeState(data, id, m)
		if err != nil {
			return
		}
		again, err := EncodeState(s)
		if err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("accepted state re-encodes differently:\n%x\n%x", data, again)
		}
	})
}
