package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"filippo.io/age"
)

// testIdentity is age.md's example identity, 0x42 × 32.
func testIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	var seed [32]byte
	for i := range seed {
		seed[i] = 0x42
	}
	id, err := IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// plaintext returns n deterministic pseudo-random bytes.
func plaintext(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// seal encrypts p to id with the given number of workers.
func sealBytes(t testing.TB, p []byte, id *age.X25519Identity, workers int) []byte {
	t.Helper()
	s, err := newSealer([]age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := s.writeTo(&b, bytes.NewReader(p), workers)
	if err != nil {
		t.Fatalf("encrypting %d bytes: %v", len(p), err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("Encrypt returned %d, wrote %d bytes", n, b.Len())
	}
	return b.Bytes()
}

func testSizes() []int {
	sizes := []int{0, 1, 100, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize,
		3*ChunkSize - 1, 3 * ChunkSize, 3*ChunkSize + 1, batchPlain - 1, batchPlain,
		batchPlain + 1, 2*batchPlain + ChunkSize, 33*ChunkSize + 5}
	r := rand.New(rand.NewPCG(7, 7))
	for range 6 {
		sizes = append(sizes, r.IntN(3*batchPlain))
	}
	return sizes
}

func TestEncryptDecrypt(t *testing.T) {
	id := testIdentity(t)
	for _, size := range testSizes() {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%d/workers=%d", size, workers), func(t *testing.T) {
				p := plaintext(size, uint64(size))
				c := sealBytes(t, p, id, workers)
				if got, want := int64(len(c)), EncryptedSize(X25519HeaderSize, int64(size)); got != want {
					t.Errorf("ciphertext size: got %d, want %d", got, want)
				}
				// Our header is canonical: age re-serializes it identically.
				hdr, err := age.ExtractHeader(bytes.NewReader(c))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(hdr, c[:X25519HeaderSize]) {
					t.Errorf("header: got\n%q\nwant age's\n%q", c[:X25519HeaderSize], hdr)
				}
				// age.Decrypt, sequential.
				r, err := age.Decrypt(bytes.NewReader(c), id)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(got, p) {
					t.Fatalf("age.Decrypt: got %d bytes (equal %v), %v; want %d bytes", len(got), bytes.Equal(got, p), err, len(p))
				}
				// age.DecryptReaderAt and OpenReaderAt, random access.
				ara, an, err := age.DecryptReaderAt(bytes.NewReader(c), int64(len(c)), id)
				if err != nil || an != int64(size) {
					t.Fatalf("age.DecryptReaderAt: got size %d, %v; want %d", an, err, size)
				}
				checkReaderAt(t, ara, p)
				ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
				if err != nil || n != int64(size) {
					t.Fatalf("OpenReaderAt: got size %d, %v; want %d", n, err, size)
				}
				checkReaderAt(t, ra, p)
				got, err = io.ReadAll(NewReadSeeker(ra, n))
				if err != nil || !bytes.Equal(got, p) {
					t.Fatalf("ReadSeeker: got %d bytes, %v; want %d bytes", len(got), err, len(p))
				}
			})
		}
	}
}

// checkReaderAt compares whole and partial reads of ra with p.
func checkReaderAt(t *testing.T, ra io.ReaderAt, p []byte) {
	t.Helper()
	got := make([]byte, len(p))
	if n, err := ra.ReadAt(got, 0); n != len(p) || (err != nil && err != io.EOF) || !bytes.Equal(got, p) {
		t.Fatalf("ReadAt(all): got %d, %v; want %d", n, err, len(p))
	}
	r := rand.New(rand.NewPCG(uint64(len(p)), 3))
	for range 20 {
		if len(p) == 0 {
			break
		}
		off := r.IntN(len(p))
		buf := make([]byte, r.IntN(len(p)-off)+1)
		n, err := ra.ReadAt(buf, int64(off))
		if n != len(buf) || (err != nil && !(err == io.EOF && off+n == len(p))) {
			t.Fatalf("ReadAt(%d bytes at %d): got %d, %v", len(buf), off, n, err)
		}
		if !bytes.Equal(buf, p[off:off+n]) {
			t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", len(buf), off)
		}
	}
}

func TestEncryptFragmentedReaders(t *testing.T) {
	id := testIdentity(t)
	p := plaintext(2*batchPlain+3*ChunkSize+17, 1)
	readers := map[string]func(io.Reader) io.Reader{
		"half":     iotest.HalfReader,
		"dataerr":  iotest.DataErrReader,
		"onebyte":  func(r io.Reader) io.Reader { return iotest.OneByteReader(io.LimitReader(r, 200_000)) },
		"multi":    func(r io.Reader) io.Reader { return io.MultiReader(io.LimitReader(r, ChunkSize+1), r) },
		"reader":   func(r io.Reader) io.Reader { return struct{ io.Reader }{r} },
		"timeouts": iotest.TimeoutReader, // first ErrTimeout is a real read error
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			var c bytes.Buffer
			_, err := Encrypt(&c, wrap(bytes.NewReader(p)), id.Recipient())
			if name == "timeouts" {
				if !errors.Is(err, iotest.ErrTimeout) {
					t.Fatalf("got %v, want an error wrapping iotest.ErrTimeout", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := p
			if name == "onebyte" {
				want = p[:200_000]
			}
			r, err := age.Decrypt(&c, id)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(want))
			}
		})
	}
}

func TestEncryptErrors(t *testing.T) {
	id := testIdentity(t)
	if _, err := Encrypt(io.Discard, strings.NewReader("x")); err == nil {
		t.Errorf("no recipients: got nil error, want one")
	}
	// A read error mid-stream leaves a file that does not decrypt.
	boom := errors.New("boom")
	src := io.MultiReader(bytes.NewReader(plaintext(3*batchPlain, 2)), iotest.ErrReader(boom))
	var c bytes.Buffer
	if _, err := Encrypt(&c, src, id.Recipient()); !errors.Is(err, boom) {
		t.Errorf("read error: got %v, want an error wrapping boom", err)
	} else if want := fmt.Sprintf("offset %d:", 3*batchPlain); !strings.Contains(err.Error(), want) {
		t.Errorf("read error: got %q, want it to name %q", err, want)
	}
	if _, _, err := OpenReaderAt(bytes.NewReader(c.Bytes()), int64(c.Len()), id); err == nil {
		t.Errorf("opening the output of a failed Encrypt: got nil error, want one")
	}
	// A write error stops the pipeline.
	for _, limit := range []int{0, 10, X25519HeaderSize + 20, 3 * batchPlain} {
		w := &failWriter{left: limit}
		n, err := Encrypt(w, bytes.NewReader(plaintext(5*batchPlain, 3)), id.Recipient())
		if !errors.Is(err, errFull) {
			t.Errorf("write error after %d bytes: got %v, want an error wrapping errFull", limit, err)
		}
		if n > int64(limit) {
			t.Errorf("write error after %d bytes: reported %d written", limit, n)
		}
	}
	// Recipients whose labels differ cannot be mixed.
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Encrypt(io.Discard, strings.NewReader("x"), id.Recipient(), pq.Recipient()); err == nil {
		t.Errorf("X25519 + hybrid recipients: got nil error, want one")
	}
	// A stanza with a space in its type would corrupt the header.
	if _, err := Encrypt(io.Discard, strings.NewReader("x"), badRecipient{}); err == nil {
		t.Errorf("invalid stanza type: got nil error, want one")
	}
}

var errFull = errors.New("disk full")

type failWriter struct{ left int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errFull
	}
	w.left -= len(p)
	return len(p), nil
}

type badRecipient struct{}

func (badRecipient) Wrap([]byte) ([]*age.Stanza, error) {
	return []*age.Stanza{{Type: "bad type", Body: []byte{1}}}, nil
}

func TestEncryptRecipients(t *testing.T) {
	a, b := testIdentity(t), mustNewIdentity(t)
	pq, _ := age.GenerateHybridIdentity()
	pq2, _ := age.GenerateHybridIdentity()
	p := plaintext(ChunkSize+9, 4)
	for name, tc := range map[string]struct {
		rs  []age.Recipient
		ids []age.Identity
	}{
		"two x25519": {[]age.Recipient{a.Recipient(), b.Recipient()}, []age.Identity{a, b}},
		"hybrid":     {[]age.Recipient{pq.Recipient(), pq2.Recipient()}, []age.Identity{pq, pq2}},
		"scrypt":     {[]age.Recipient{mustScrypt(t)}, []age.Identity{mustScryptID(t)}},
	} {
		var c bytes.Buffer
		if _, err := Encrypt(&c, bytes.NewReader(p), tc.rs...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hdr, err := age.ExtractHeader(bytes.NewReader(c.Bytes()))
		if err != nil || !bytes.HasPrefix(c.Bytes(), hdr) {
			t.Errorf("%s: header is not canonical (%v)", name, err)
		}
		for i, id := range tc.ids {
			r, err := age.Decrypt(bytes.NewReader(c.Bytes()), id)
			if err != nil {
				t.Fatalf("%s: identity #%d: %v", name, i, err)
			}
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, p) {
				t.Errorf("%s: identity #%d: got %d bytes, %v; want %d", name, i, len(got), err, len(p))
			}
		}
	}
}

func mustNewIdentity(t *testing.T) *age.X25519Identity {
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustScrypt(t *testing.T) age.Recipient {
	r, err := age.NewScryptRecipient("password")
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	return r
}

func mustScryptID(t *testing.T) age.Identity {
	id, err := age.NewScryptIdentity("password")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEncryptReader(t *testing.T) {
	id := testIdentity(t)
	p := plaintext(batchPlain+5, 5)
	er, err := EncryptReader(bytes.NewReader(p), id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	c, err := io.ReadAll(er)
	if err != nil {
		t.Fatal(err)
	}
	ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
	if err != nil {
		t.Fatal(err)
	}
	checkReaderAt(t, ra, p)
	if n != int64(len(p)) {
		t.Errorf("size: got %d, want %d", n, len(p))
	}
	// Closing early stops the encryption.
	er, err = EncryptReader(bytes.NewReader(plaintext(4*batchPlain, 6)), id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(er, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := er.Close(); err != nil {
		t.Errorf("Close: got %v, want nil", err)
	}
}

// TestAgeIdentityFile decrypts the way `age -d -i key.txt` does: the
// identity string in a key file, parsed by age.ParseIdentities. If the age
// CLI is on PATH, it decrypts the file too.
func TestAgeIdentityFile(t *testing.T) {
	content := mustNewIdentity(t)
	p := plaintext(3*ChunkSize+1, 8)
	var c bytes.Buffer
	if _, err := Encrypt(&c, bytes.NewReader(p), content.Recipient()); err != nil {
		t.Fatal(err)
	}
	keyFile := "# released content key\n" + FormatIdentity(seedOf(t, content)) + "\n"
	ids, err := age.ParseIdentities(strings.NewReader(keyFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(c.Bytes()), ids...)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, p) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(p))
	}

	cli, err := exec.LookPath("age")
	if err != nil {
		t.Skip("age CLI not on PATH; decrypted through the library only")
	}
	dir := t.TempDir()
	key, in := filepath.Join(dir, "key.txt"), filepath.Join(dir, "film.age")
	os.WriteFile(key, []byte(keyFile), 0o600)
	os.WriteFile(in, c.Bytes(), 0o600)
	out, err := exec.Command(cli, "-d", "-i", key, in).Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	if !bytes.Equal(out, p) {
		t.Fatalf("age -d: got %d bytes, want %d (equal %v)", len(out), len(p), bytes.Equal(out, p))
	}
}

func seedOf(t *testing.T, id *age.X25519Identity) [32]byte {
	s, err := decodeIdentity(id.String())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTamperedChunk(t *testing.T) {
	id := testIdentity(t)
	const chunks = 5
	p := plaintext(chunks*ChunkSize-100, 9)
	c := sealBytes(t, p, id, 2)
	payload := X25519HeaderSize + nonceSize
	mid := payload + 2*encChunkSize + encChunkSize/2 // inside chunk 2
	c[mid] ^= 0x10
	ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
	if err != nil {
		t.Fatalf("OpenReaderAt: %v (only chunk 2 is damaged)", err)
	}
	for i := range chunks {
		buf := make([]byte, ChunkSize)
		off := int64(i) * ChunkSize
		k, err := ra.ReadAt(buf, off)
		if i == 2 {
			if err == nil || err == io.EOF {
				t.Errorf("chunk 2: got %d bytes, %v; want an error", k, err)
			}
			continue
		}
		want := p[off:min(off+ChunkSize, n)]
		if k != len(want) || !bytes.Equal(buf[:k], want) || (err != nil && err != io.EOF) {
			t.Errorf("chunk %d: got %d bytes, %v; want %d correct bytes", i, k, err, len(want))
		}
	}
	// A large parallel read stops at the damaged chunk, its prefix intact.
	buf := make([]byte, n)
	k, err := ra.ReadAt(buf, 0)
	if err == nil || k > 2*ChunkSize || !bytes.Equal(buf[:k], p[:k]) {
		t.Errorf("ReadAt(all): got %d bytes, %v; want at most %d correct bytes and an error", k, err, 2*ChunkSize)
	}
	// So does a sequential reader.
	got, err := io.ReadAll(NewReadSeeker(ra, n))
	if err == nil || len(got) != 2*ChunkSize || !bytes.Equal(got, p[:len(got)]) {
		t.Errorf("ReadSeeker: got %d bytes, %v; want %d correct bytes and an error", len(got), err, 2*ChunkSize)
	}
	// Damage to the header or the last chunk is caught when opening.
	for _, at := range []int{10, X25519HeaderSize - 5, X25519HeaderSize + 3, len(c) - 3} {
		d := bytes.Clone(c)
		d[mid] ^= 0x10
		d[at] ^= 0x01
		if _, _, err := OpenReaderAt(bytes.NewReader(d), int64(len(d)), id); err == nil {
			t.Errorf("bit flipped at %d: OpenReaderAt got nil error, want one", at)
		}
	}
}

func TestTruncated(t *testing.T) {
	id := testIdentity(t)
	c := sealBytes(t, plaintext(3*ChunkSize, 10), id, 2)
	for _, size := range []int{0, 50, X25519HeaderSize, X25519HeaderSize + nonceSize,
		X25519HeaderSize + nonceSize + 15, len(c) - encChunkSize, len(c) - encChunkSize - 1,
		len(c) - 1, len(c) - tagSize} {
		if _, _, err := OpenReaderAt(bytes.NewReader(c[:size]), int64(size), id); err == nil {
			t.Errorf("truncated to %d of %d: got nil error, want one", size, len(c))
		}
	}
	ext := append(bytes.Clone(c), 0)
	if _, _, err := OpenReaderAt(bytes.NewReader(ext), int64(len(ext)), id); err == nil {
		t.Errorf("extended by one byte: got nil error, want one")
	}
	if _, _, err := OpenReaderAt(bytes.NewReader(c), -1, id); err == nil {
		t.Errorf("negative size: got nil error, want one")
	}
	var noMatch *age.NoIdentityMatchError
	if _, _, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), mustNewIdentity(t)); !errors.As(err, &noMatch) {
		t.Errorf("wrong identity: got %v, want an *age.NoIdentityMatchError", err)
	}
}

func TestReaderAtEdges(t *testing.T) {
	id := testIdentity(t)
	p := plaintext(10*ChunkSize+3, 11)
	c := sealBytes(t, p, id, 2)
	ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, len int64
		wantN    int64
		wantErr  error
	}{
		{0, 0, 0, nil},
		{n, 1, 0, io.EOF},
		{n + 5, 1, 0, io.EOF},
		{n - 1, 1, 1, io.EOF},
		{n - 1, 10, 1, io.EOF},
		{0, n, n, io.EOF},
		{0, n + 10, n, io.EOF},
		{1, n - 2, n - 2, nil},
		{ChunkSize - 1, 6 * ChunkSize, 6 * ChunkSize, nil},
		{3 * ChunkSize, 5 * ChunkSize, 5 * ChunkSize, nil},
	}
	for _, tt := range tests {
		buf := make([]byte, tt.len)
		got, err := ra.ReadAt(buf, tt.off)
		if int64(got) != tt.wantN || err != tt.wantErr {
			t.Errorf("ReadAt(%d at %d): got %d, %v; want %d, %v", tt.len, tt.off, got, err, tt.wantN, tt.wantErr)
		}
		if !bytes.Equal(buf[:got], p[min(tt.off, n):min(tt.off, n)+int64(got)]) {
			t.Errorf("ReadAt(%d at %d): wrong bytes", tt.len, tt.off)
		}
	}
	if _, err := ra.ReadAt(make([]byte, 1), -1); err == nil {
		t.Errorf("ReadAt at -1: got nil error, want one")
	}
}

func TestReadSeeker(t *testing.T) {
	id := testIdentity(t)
	p := plaintext(40*ChunkSize+77, 12)
	c := sealBytes(t, p, id, 2)
	ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
	if err != nil {
		t.Fatal(err)
	}
	rs := NewReadSeeker(ra, n)
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var pos int64
		switch r.IntN(3) {
		case 0:
			pos, err = rs.Seek(r.Int64N(n+10), io.SeekStart)
		case 1:
			pos, err = rs.Seek(-r.Int64N(n/4), io.SeekEnd)
		case 2:
			pos, err = rs.Seek(0, io.SeekCurrent)
		}
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, []int{1, 100, 32 << 10, readAhead, 3 * readAhead}[r.IntN(5)])
		k, err := io.ReadFull(rs, buf)
		want := p[min(pos, n):min(pos+int64(len(buf)), n)]
		if k != len(want) || !bytes.Equal(buf[:k], want) {
			t.Fatalf("read %d at %d: got %d bytes (%v), want %d", len(buf), pos, k, err, len(want))
		}
	}
	if _, err := rs.Seek(-1, io.SeekStart); err == nil {
		t.Errorf("Seek(-1): got nil error, want one")
	}
	if _, err := rs.Seek(0, 7); err == nil {
		t.Errorf("Seek whence 7: got nil error, want one")
	}

	// As http.ServeContent uses it: a Range in the middle.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "film.webm", time.Time{}, NewReadSeeker(ra, n))
	}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	mid := n / 2
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", mid, mid+(1<<20)-1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || err != nil || !bytes.Equal(body, p[mid:mid+(1<<20)]) {
		t.Errorf("Range request: got %d, %d bytes, %v; want 206 and 1 MiB of plaintext", resp.StatusCode, len(body), err)
	}
}
