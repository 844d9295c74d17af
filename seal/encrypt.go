package seal

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"

	"filippo.io/age"
)

// Sizes of the age v1 format (age.md, "Header" and "Payload").
const (
	// ChunkSize is the plaintext size of every payload chunk but the last.
	// Random access reads whole chunks, so aligning reads to it wastes nothing.
	ChunkSize = 64 << 10
	// X25519HeaderSize is the length of the header Encrypt writes for a
	// single X25519 recipient, MAC line included (not the payload nonce).
	X25519HeaderSize = 168

	tagSize      = 16 // Poly1305 tag after each chunk
	encChunkSize = ChunkSize + tagSize
	fileKeySize  = 16
	nonceSize    = 16 // payload nonce between header and payload
	headerIntro  = "age-encryption.org/v1\n"
	stanzaPrefix = "->"
	footerPrefix = "---"
	stanzaCols   = 64 // base64 columns of a stanza body line
)

// EncryptedSize returns the size of the age file Encrypt writes for
// plainSize bytes of plaintext behind a header of headerLen bytes
// ([X25519HeaderSize] for one X25519 recipient).
func EncryptedSize(headerLen int, plainSize int64) int64 {
	chunks := (plainSize + ChunkSize - 1) / ChunkSize
	if chunks == 0 {
		chunks = 1 // empty plaintext: one empty, authenticated chunk
	}
	return int64(headerLen) + nonceSize + plainSize + chunks*tagSize
}

// Encrypt reads src to its end and writes it to dst as an age v1 file
// encrypted to recipients, returning the number of bytes written.
// The file decrypts with age.Decrypt, age.DecryptReaderAt, [OpenReaderAt]
// and the age CLI.
//
// Chunks are encrypted in parallel by GOMAXPROCS workers; output order and
// bytes are those of a sequential encryptor. Encrypt returns only after it has
// stopped reading src. On error, what was written to dst is not a valid age
// file (its final chunk is missing) and must be discarded.
func Encrypt(dst io.Writer, src io.Reader, recipients ...age.Recipient) (int64, error) {
	s, err := newSealer(recipients)
	if err != nil {
		return 0, err
	}
	return s.writeTo(dst, src, runtime.GOMAXPROCS(0))
}

// EncryptReader returns a reader of the age file that [Encrypt] would write
// for src. The encryption runs in the background as the result is read; the
// caller must read it to io.EOF or Close it, which stops reading src.
func EncryptReader(src io.Reader, recipients ...age.Recipient) (io.ReadCloser, error) {
	s, err := newSealer(recipients)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := s.writeTo(pw, src, runtime.GOMAXPROCS(0))
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// sealer holds what one age file needs before its payload: the header,
// the payload nonce and the payload key derived from them.
type sealer struct {
	head []byte // header then payload nonce
	key  []byte // ChaCha20-Poly1305 payload key
}

// newSealer draws a file key and payload nonce and builds the header.
func newSealer(recipients []age.Recipient) (*sealer, error) {
	fileKey := make([]byte, fileKeySize)
	rand.Read(fileKey) // never fails (crypto/rand, Go ≥ 1.24)
	hdr, err := marshalHeader(fileKey, recipients)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, nonceSize)
	rand.Read(nonce)
	// payload key = HKDF-SHA-256(ikm = file key, salt = nonce, info = "payload")
	key, err := hkdf.Key(sha256.New, fileKey, nonce, "payload", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving payload key: %w", err)
	}
	return &sealer{head: append(hdr, nonce...), key: key}, nil
}

// writeTo writes the header, nonce and encrypted payload of src to dst.
func (s *sealer) writeTo(dst io.Writer, src io.Reader, workers int) (int64, error) {
	n, err := dst.Write(s.head)
	if err == nil && n != len(s.head) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return int64(n), fmt.Errorf("writing age header: %w", err)
	}
	m, err := encryptPayload(dst, src, s.key, workers)
	return int64(n) + m, err
}

// marshalHeader wraps fileKey to every recipient and returns the header:
//
//	age-encryption.org/v1\n
//	-> TYPE ARG...\n
//	BODY (base64, no padding, 64 columns, last line shorter than 64)\n
//	--- MAC\n
//
// where MAC = HMAC-SHA-256(key = HKDF-SHA-256(file key, "", "header"),
// header up to and including "---"), base64 without padding.
func marshalHeader(fileKey []byte, recipients []age.Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("encrypting: no recipients")
	}
	var b bytes.Buffer
	b.WriteString(headerIntro)
	var labels []string
	for i, r := range recipients {
		var stanzas []*age.Stanza
		var l []string
		var err error
		if rl, ok := r.(age.RecipientWithLabels); ok {
			stanzas, l, err = rl.WrapWithLabels(fileKey)
		} else {
			stanzas, err = r.Wrap(fileKey)
		}
		if err != nil {
			return nil, fmt.Errorf("wrapping file key for recipient #%d: %w", i, err)
		}
		// As age does: recipients mix only when their label sets agree
		// (for instance, no classic recipient beside a post-quantum one).
		l = slices.Sorted(slices.Values(l))
		if i == 0 {
			labels = l
		} else if !slices.Equal(labels, l) {
			return nil, fmt.Errorf("encrypting: recipient #%d has labels %q, #0 has %q: they cannot be mixed", i, l, labels)
		}
		if len(stanzas) == 0 {
			return nil, fmt.Errorf("wrapping file key for recipient #%d: no stanza", i)
		}
		for _, s := range stanzas {
			if err := writeStanza(&b, s); err != nil {
				return nil, fmt.Errorf("recipient #%d: %w", i, err)
			}
		}
	}
	b.WriteString(footerPrefix)
	macKey, err := hkdf.Key(sha256.New, fileKey, nil, "header", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving header key: %w", err)
	}
	mac := hmac.New(sha256.New, macKey)
	mac.Write(b.Bytes())
	b.WriteByte(' ')
	b.WriteString(base64.RawStdEncoding.EncodeToString(mac.Sum(nil)))
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// writeStanza appends one recipient stanza, checking that its type and
// arguments are non-empty strings of visible ASCII as age.md requires.
func writeStanza(b *bytes.Buffer, s *age.Stanza) error {
	if s == nil {
		return errors.New("nil stanza")
	}
	for _, a := range append([]string{s.Type}, s.Args...) {
		if !isVisibleASCII(a) {
			return fmt.Errorf("stanza %q: invalid type or argument %q", s.Type, a)
		}
	}
	b.WriteString(stanzaPrefix)
	for _, a := range append([]string{s.Type}, s.Args...) {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	b.WriteByte('\n')
	body := base64.RawStdEncoding.EncodeToString(s.Body)
	for len(body) >= stanzaCols {
		b.WriteString(body[:stanzaCols])
		b.WriteByte('\n')
		body = body[stanzaCols:]
	}
	b.WriteString(body) // possibly empty: the last line is always short
	b.WriteByte('\n')
	return nil
}

func isVisibleASCII(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}
