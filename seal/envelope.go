package seal

import (
	"bytes"
	"fmt"
	"io"

	"filippo.io/age"
)

// An envelope is a small age file whose plaintext is one identity line:
//
//	AGE-SECRET-KEY-1…\n
//
// It is an age identity file, so a buyer can also open it by hand:
// `age -d -i buyer.key envelope.age > content.key`, then
// `age -d -i content.key film.age`.

// maxEnvelope bounds the age file UnwrapIdentity accepts: a header with a
// handful of stanzas (post-quantum ones are about 1.6 KB) and one line.
const maxEnvelope = 16 << 10

// WrapIdentity seals the content identity to the buyer's recipient,
// so that only the buyer's identity can recover it ([UnwrapIdentity]).
func WrapIdentity(content *age.X25519Identity, buyer age.Recipient) ([]byte, error) {
	if content == nil || buyer == nil {
		return nil, fmt.Errorf("wrapping content identity: missing identity or recipient")
	}
	var b bytes.Buffer
	w, err := age.Encrypt(&b, buyer)
	if err != nil {
		return nil, fmt.Errorf("wrapping content identity: %w", err)
	}
	io.WriteString(w, content.String()+"\n") // writes to a bytes.Buffer cannot fail
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("wrapping content identity: %w", err)
	}
	return b.Bytes(), nil
}

// UnwrapIdentity opens an envelope made by [WrapIdentity] with the buyer's
// identity. It fails on any envelope that is not an authentic age file for
// that identity holding exactly one identity line. If the identity does not
// match, the error wraps an *age.NoIdentityMatchError.
func UnwrapIdentity(env []byte, buyer age.Identity) (*age.X25519Identity, error) {
	if len(env) > maxEnvelope {
		return nil, fmt.Errorf("unwrapping content identity: envelope is %d bytes, more than %d", len(env), maxEnvelope)
	}
	if buyer == nil {
		return nil, fmt.Errorf("unwrapping content identity: no identity")
	}
	r, err := age.Decrypt(bytes.NewReader(env), buyer)
	if err != nil {
		return nil, fmt.Errorf("unwrapping content identity: %w", err)
	}
	line, err := io.ReadAll(io.LimitReader(r, int64(identityLen)+2))
	if err != nil {
		return nil, fmt.Errorf("unwrapping content identity: %w", err)
	}
	if len(line) != identityLen+1 || line[identityLen] != '\n' {
		return nil, fmt.Errorf("unwrapping content identity: plaintext is not one identity line")
	}
	id, err := ParseIdentity(string(line[:identityLen]))
	if err != nil {
		return nil, fmt.Errorf("unwrapping content identity: %w", err)
	}
	return id, nil
}
