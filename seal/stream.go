package seal

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
)

// The payload is age's STREAM construction (age.md, "Payload"): the
// plaintext is cut into 64 KiB chunks, and chunk i is sealed with
// ChaCha20-Poly1305 under the payload key and the 12-byte nonce
//
//	11-byte big-endian i || 0x01 for the last chunk, 0x00 otherwise
//
// The last chunk may be full; it is empty only when the whole plaintext is.
//
// Encryption is a pipeline: one goroutine reads batches of chunks from src,
// workers seal batches concurrently, and the caller's goroutine writes them
// in order. At most batchesPerWorker·workers+2 batches exist at once.

const (
	batchChunks      = 16 // chunks per job: 1 MiB of plaintext
	batchPlain       = batchChunks * ChunkSize
	batchesPerWorker = 2
)

// batch is one job: consecutive chunks, sealed as a whole by one worker.
type batch struct {
	plain  []byte // batchPlain bytes; the first n are plaintext
	sealed []byte // ciphertext of plain[:n], written in one Write
	n      int
	first  uint64 // index of the batch's first chunk in the file
	last   bool   // the batch ends with the file's last chunk
	err    error  // reading src failed: the batch is the end of the stream
	done   chan struct{}
}

// seal encrypts the batch's chunks into b.sealed.
func (b *batch) seal(aead cipher.AEAD) {
	chunks := (b.n + ChunkSize - 1) / ChunkSize
	if chunks == 0 {
		chunks = 1 // the empty plaintext has one empty chunk
	}
	out := b.sealed[:0]
	var nonce [chacha20poly1305.NonceSize]byte
	for i := range chunks {
		binary.BigEndian.PutUint64(nonce[3:11], b.first+uint64(i))
		nonce[11] = 0
		if b.last && i == chunks-1 {
			nonce[11] = 1
		}
		out = aead.Seal(out, nonce[:], b.plain[i*ChunkSize:min((i+1)*ChunkSize, b.n)], nil)
	}
	b.sealed = out
}

// encryptPayload writes the STREAM encryption of src under key to dst
// using workers goroutines, and returns the number of bytes written.
func encryptPayload(dst io.Writer, src io.Reader, key []byte, workers int) (int64, error) {
	workers = max(workers, 1)
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return 0, fmt.Errorf("payload key: %w", err)
	}
	nbatch := batchesPerWorker*workers + 2
	// Capacities of nbatch make every send below non-blocking: no more
	// than nbatch batches are ever in flight.
	free := make(chan *batch, nbatch)
	jobs := make(chan *batch, nbatch)
	order := make(chan *batch, nbatch)
	quit := make(chan struct{})

	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() {
		defer wg.Done()
		readBatches(src, nbatch, free, jobs, order, quit)
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for b := range jobs {
				b.seal(aead)
				b.done <- struct{}{}
			}
		}()
	}

	var written int64
	sawLast := false
	for b := range order {
		if b.err != nil {
			err = fmt.Errorf("reading plaintext at offset %d: %w", int64(b.first)*ChunkSize+int64(b.n), b.err)
			break
		}
		<-b.done
		n, werr := dst.Write(b.sealed)
		written += int64(n)
		if werr == nil && n != len(b.sealed) {
			werr = io.ErrShortWrite
		}
		if werr != nil {
			err = fmt.Errorf("writing ciphertext: %w", werr)
			break
		}
		if b.last {
			sawLast = true
			break
		}
		free <- b
	}
	close(quit)
	wg.Wait()
	if err == nil && !sawLast {
		err = errors.New("encrypting payload: stream ended without a final chunk")
	}
	return written, err
}

// readBatches fills batches from src in order and hands each to the
// workers (jobs) and to the writer (order). It allocates up to nbatch
// batches, then reuses those the writer returns on free.
//
// To know whether a full batch holds the file's last chunk, it reads one
// byte ahead and carries it into the next batch.
func readBatches(src io.Reader, nbatch int, free <-chan *batch, jobs, order chan<- *batch, quit <-chan struct{}) {
	defer close(order)
	defer close(jobs)
	var (
		first     uint64
		carry     [1]byte
		hasCarry  bool
		allocated int
	)
	next := func() *batch {
		select {
		case b := <-free:
			return b
		default:
		}
		if allocated < nbatch {
			allocated++
			return &batch{
				plain:  make([]byte, batchPlain),
				sealed: make([]byte, 0, batchChunks*encChunkSize),
				done:   make(chan struct{}, 1),
			}
		}
		select {
		case b := <-free:
			return b
		case <-quit:
			return nil
		}
	}
	for {
		b := next()
		if b == nil {
			return
		}
		select {
		case <-quit:
			return
		default:
		}

		off := 0
		if hasCarry {
			b.plain[0] = carry[0]
			off, hasCarry = 1, false
		}
		m, err := io.ReadFull(src, b.plain[off:])
		b.n, b.first, b.last, b.err = off+m, first, false, nil
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			b.last = true
		case err != nil:
			b.err = err
		default:
			switch _, perr := io.ReadFull(src, carry[:]); {
			case perr == io.EOF:
				b.last = true
			case perr != nil:
				b.err = perr
			default:
				hasCarry = true
			}
		}
		order <- b
		if b.err != nil {
			return
		}
		jobs <- b
		if b.last {
			return
		}
		first += batchChunks
	}
}
