package campaign

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/codec/dagjson"
	"github.com/ipld/go-ipld-prime/node/basicnode"
)

var update = flag.Bool("update", false, "rewrite the test vectors and seed corpora in testdata")

//go:embed testdata/vectors
var vectorFS embed.FS

// vectorIndex is testdata/vectors/vectors.json.
type vectorIndex struct {
	Comment string   `json:"comment"`
	Seed    string   `json:"ed25519_seed"` // hex
	PeerID  string   `json:"peer_id"`
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name string `json:"name"`
	File string `json:"file"` // DAG-CBOR; the same name with .json is its DAG-JSON view
	CID  string `json:"cid"`
}

// vectorData builds the vectors from testManifest, testState and
// testKey("creator").
func vectorData(t *testing.T) (vectorIndex, map[string][]byte) {
	seed := sha256.Sum256([]byte("shardcast campaign test key creator"))
	_, pid, err := keyIdentity(testKey(t, "creator"))
	if err != nil {
		t.Fatal(err)
	}
	idx := vectorIndex{
		Comment: "Campaign manifests and a state record signed with the Ed25519 key of this seed (SHA-256 of \"shardcast campaign test key creator\"). Each .cbor file is a block; cid is its CID.",
		Seed:    hex.EncodeToString(seed[:]),
		PeerID:  pid.String(),
	}
	files := map[string][]byte{}
	for _, model := range testModels {
		_, data, id := signed(t, model)
		name := "manifest-" + string(model)
		idx.Vectors = append(idx.Vectors, vector{Name: name, File: name + ".cbor", CID: id.String()})
		files[name+".cbor"] = data
	}
	st := signedState(t, testState(ID(files["manifest-shards.cbor"])))
	idx.Vectors = append(idx.Vectors, vector{Name: "state-shards", File: "state-shards.cbor", CID: ID(st).String()})
	files["state-shards.cbor"] = st
	for _, v := range idx.Vectors {
		files[v.Name+".json"] = dagJSON(t, files[v.File])
	}
	return idx, files
}

// dagJSON renders a DAG-CBOR block as indented DAG-JSON for reading.
func dagJSON(t *testing.T, data []byte) []byte {
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dagcbor.Decode(nb, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := dagjson.Encode(nb.Build(), &buf); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// TestVectors rebuilds every vector and compares it with the committed
// one, so the format cannot drift silently. go test -run TestVectors
// -update rewrites them (and the seed corpora).
func TestVectors(t *testing.T) {
	idx, files := vectorData(t)
	if *update {
		writeVectors(t, idx, files)
		writeCorpora(t, files)
	}
	raw, err := vectorFS.ReadFile("testdata/vectors/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var got vectorIndex
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Seed != idx.Seed || got.PeerID != idx.PeerID {
		t.Errorf("key: got seed %s, peer %s; want %s, %s", got.Seed, got.PeerID, idx.Seed, idx.PeerID)
	}
	if len(got.Vectors) != len(idx.Vectors) {
		t.Fatalf("got %d vectors, want %d", len(got.Vectors), len(idx.Vectors))
	}
	var shards *Manifest
	for i, v := range got.Vectors {
		want := idx.Vectors[i]
		data, err := vectorFS.ReadFile("testdata/vectors/" + v.File)
		if err != nil {
			t.Fatal(err)
		}
		if v != want || !bytes.Equal(data, files[v.File]) {
			t.Errorf("vector %s: got %+v, want %+v; bytes equal: %v (format changed? see -update)", v.Name, v, want, bytes.Equal(data, files[v.File]))
		}
		if id := ID(data).String(); id != v.CID {
			t.Errorf("vector %s: ID of the file: got %s, want %s", v.Name, id, v.CID)
		}
		view, err := vectorFS.ReadFile("testdata/vectors/" + v.Name + ".json")
		if err != nil || !bytes.Equal(view, dagJSON(t, data)) {
			t.Errorf("vector %s: DAG-JSON view is stale (%v)", v.Name, err)
		}
		switch v.Name {
		case "state-shards":
			if shards == nil {
				t.Fatal("state vector before the shards manifest")
			}
			if _, err := DecodeState(data, ID(files["manifest-shards.cbor"]), shards); err != nil {
				t.Errorf("vector %s: %v", v.Name, err)
			}
		default:
			m, err := Decode(data)
			if err != nil {
				t.Errorf("vector %s: %v", v.Name, err)
				continue
			}
			if m.Model == ModelShards {
				shards = m
			}
		}
	}
}

func writeVectors(t *testing.T, idx vectorIndex, files map[string][]byte) {
	dir := filepath.Join("testdata", "vectors")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	js, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vectors.json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeCorpora writes the fuzz seed corpora: each vector, plus damaged
// copies that exercise the rejection paths.
func writeCorpora(t *testing.T, files map[string][]byte) {
	write := func(target, name string, data []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, model := range testModels {
		data := files["manifest-"+string(model)+".cbor"]
		write("FuzzDecodeManifest", string(model), data)
		write("FuzzDecodeManifest", string(model)+"-truncated", data[:len(data)/2])
		flipped := bytes.Clone(data)
		flipped[len(flipped)-1] ^= 1
		write("FuzzDecodeManifest", string(model)+"-bad-sig", flipped)
	}
	st := files["state-shards.cbor"]
	write("FuzzDecodeState", "shards", st)
	write("FuzzDecodeState", "truncated", st[:len(st)/2])
	flipped := bytes.Clone(st)
	flipped[len(flipped)-1] ^= 1
	write("FuzzDecodeState", "bad-sig", flipped)
}
