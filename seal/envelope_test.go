package seal

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

func TestWrapUnwrapIdentity(t *testing.T) {
	content := mustNewIdentity(t)
	buyer := testIdentity(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		r  age.Recipient
		id age.Identity
	}{
		"x25519": {buyer.Recipient(), buyer},
		"hybrid": {pq.Recipient(), pq},
	} {
		env, err := WrapIdentity(content, tc.r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := UnwrapIdentity(env, tc.id)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.String() != content.String() {
			t.Errorf("%s: unwrapped a different identity", name)
		}
		// The envelope is an age identity file, usable with `age -d -i`.
		r, err := age.Decrypt(bytes.NewReader(env), tc.id)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := age.ParseIdentities(r)
		if err != nil || len(ids) != 1 {
			t.Errorf("%s: age.ParseIdentities(envelope): got %d identities, %v; want 1", name, len(ids), err)
		}
	}
}

func TestUnwrapIdentityRejects(t *testing.T) {
	content := mustNewIdentity(t)
	buyer := testIdentity(t)
	env, err := WrapIdentity(content, buyer.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	var noMatch *age.NoIdentityMatchError
	if _, err := UnwrapIdentity(env, mustNewIdentity(t)); !errors.As(err, &noMatch) {
		t.Errorf("wrong buyer: got %v, want an *age.NoIdentityMatchError", err)
	}
	for _, at := range []int{0, 30, len(env) / 2, len(env) - 1} {
		d := bytes.Clone(env)
		d[at] ^= 0x04
		if _, err := UnwrapIdentity(d, buyer); err == nil {
			t.Errorf("bit flipped at %d: got nil error, want one", at)
		}
	}
	if _, err := UnwrapIdentity(env[:len(env)-1], buyer); err == nil {
		t.Errorf("truncated: got nil error, want one")
	}
	if _, err := UnwrapIdentity(nil, buyer); err == nil {
		t.Errorf("empty: got nil error, want one")
	}
	if _, err := UnwrapIdentity(env, nil); err == nil {
		t.Errorf("nil identity: got nil error, want one")
	}
	if _, err := WrapIdentity(nil, buyer.Recipient()); err == nil {
		t.Errorf("WrapIdentity(nil): got nil error, want one")
	}
	// Authentic envelopes whose plaintext is not exactly one identity line.
	for name, pt := range map[string]string{
		"no newline":  content.String(),
		"two lines":   content.String() + "\n" + content.String() + "\n",
		"comment":     "# key\n" + content.String() + "\n",
		"crlf":        content.String() + "\r\n",
		"lowercase":   strings.ToLower(content.String()) + "\n",
		"empty":       "",
		"long":        strings.Repeat("A", 100_000),
		"hybrid line": "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR\n",
	} {
		var b bytes.Buffer
		w, err := age.Encrypt(&b, buyer.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, pt)
		w.Close()
		if _, err := UnwrapIdentity(b.Bytes(), buyer); err == nil {
			t.Errorf("%s: got nil error, want one", name)
		} else if strings.Contains(err.Error(), content.String()[16:]) {
			t.Errorf("%s: error %q repeats the secret", name, err)
		}
	}
}
