package seal

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
)

// The seed corpora under testdata/fuzz were made with these identities:
// buyer and content identity 0x42 × 32 (age.md's example identity).

// FuzzUnwrapIdentity: arbitrary envelopes never panic, and whatever opens
// wraps and opens again to the same identity.
func FuzzUnwrapIdentity(f *testing.F) {
	buyer := testIdentity(f)
	env, err := WrapIdentity(testIdentity(f), buyer.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add(env[:len(env)-1])
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, env []byte) {
		id, err := UnwrapIdentity(env, buyer)
		if err != nil {
			return
		}
		again, err := WrapIdentity(id, buyer.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		id2, err := UnwrapIdentity(again, buyer)
		if err != nil || id2.String() != id.String() {
			t.Fatalf("round trip: got %v, want the same identity", err)
		}
	})
}

// FuzzIdentityString: the parser accepts exactly the canonical strings age
// accepts, and formatting what it parsed gives the input back.
func FuzzIdentityString(f *testing.F) {
	f.Add("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX")
	f.Add("AGE-SECRET-KEY-184JMZMVQH3E6U0PSL869004Y3U2NYV7R30EU99CSEDNPH02YUVFSZW44VU")
	f.Add("age-secret-key-1gfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpq4egaex")
	f.Add("AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEY")
	f.Add("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		seed, err := decodeIdentity(s)
		ageID, ageErr := age.ParseX25519Identity(s)
		if err == nil {
			if got := FormatIdentity(seed); got != s {
				t.Fatalf("FormatIdentity(decodeIdentity(%q)) = %q", s, got)
			}
			if ageErr != nil || ageID.String() != s {
				t.Fatalf("we accept %q, age does not: %v", s, ageErr)
			}
		} else if ageErr == nil && ageID.String() == s {
			t.Fatalf("age accepts canonical %q, we do not: %v", s, err)
		}
		// Any bytes of the right size survive formatting and parsing.
		if len(s) >= 32 {
			var seed [32]byte
			copy(seed[:], s)
			got, err := decodeIdentity(FormatIdentity(seed))
			if err != nil || got != seed {
				t.Fatalf("round trip of %x: got %x, %v", seed, got, err)
			}
		}
	})
}

// FuzzOpenReaderAt: arbitrary ciphertext never panics, and whatever opens
// reads the same through ReadAt, the ReadSeeker and age.Decrypt.
func FuzzOpenReaderAt(f *testing.F) {
	id := testIdentity(f)
	for _, n := range []int{0, 1, ChunkSize, ChunkSize + 1} {
		f.Add(sealBytes(f, plaintext(n, uint64(n)), id, 2))
	}
	f.Fuzz(func(t *testing.T, c []byte) {
		ra, n, err := OpenReaderAt(bytes.NewReader(c), int64(len(c)), id)
		if err != nil {
			return
		}
		if n < 0 || n > int64(len(c)) {
			t.Fatalf("plaintext size %d for %d bytes of ciphertext", n, len(c))
		}
		all := make([]byte, n)
		k, rerr := ra.ReadAt(all, 0)
		seq, serr := io.ReadAll(NewReadSeeker(ra, n))
		if !bytes.Equal(seq, all[:k]) && rerr == nil {
			t.Fatalf("ReadSeeker and ReadAt disagree")
		}
		r, err := age.Decrypt(bytes.NewReader(c), id)
		if err != nil {
			t.Fatalf("OpenReaderAt accepted what age.Decrypt rejects: %v", err)
		}
		ref, err := io.ReadAll(r)
		if (rerr == nil || rerr == io.EOF) && serr == nil {
			if err != nil || !bytes.Equal(ref, all) {
				t.Fatalf("age.Decrypt disagrees: %v", err)
			}
		}
	})
}
