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
	batchChunks      = 16                      // chunks per job: 1 MiB of plaintext
	batchPlain       = batchChunks * ChunkSize // plaintext bytes of a full batch
	batchesPerWorker = 2
)

// batch is one job: consecutive chunks, sealed as a whole by one worker.
// Chunk i is read into slot i of buf (encChunkSize bytes) and sealed in
// place; as every chunk but the file's last is full, the sealed chunks lie
// end to end and leave in one Write.
type batch struct {
	buf   []byte // batchChunks slots of encChunkSize bytes
	n     int    // plaintext bytes in the batch
	first uint64 // index of the batch's first chunk in the file
	last  bool   // the batch ends with the file's last chunk
	err   error  // reading src failed: the batch is the end of the stream
	done  chan struct{}
}

func (b *batch) chunks() int {
	return max((b.n+ChunkSize-1)/ChunkSize, 1) // the empty plaintext has one empty chunk
}

// sealed returns the batch's ciphertext once seal has run.
func (b *batch) sealed() []byte { return b.buf[:b.n+b.chunks()*tagSize] }

// seal encrypts the batch's chunks in place.
func (b *batch) seal(aead cipher.AEAD) {
	var nonce [chacha20poly1305.NonceSize]byte
	chunks := b.chunks()
	for i := range chunks {
		binary.BigEndian.PutUint64(nonce[3:11], b.first+uint64(i))
		nonce[11] = 0
		if b.last && i == chunks-1 {
			nonce[11] = 1
		}
		slot := b.buf[i*encChunkSize:]
		aead.Seal(slot[:0], nonce[:], slot[:min(ChunkSize, b.n-i*ChunkSize)], nil)
	}
}

// fill reads the batch's chunks from src. carry is the byte read ahead
// after the previous batch, if any; fill returns the one it reads ahead.
func (b *batch) fill(src io.Reader, first uint64, carry []byte) (next []byte) {
	b.n, b.first, b.last, b.err = 0, first, false, nil
	for i := range batchChunks {
		slot := b.buf[i*encChunkSize : i*encChunkSize+ChunkSize]
		off := copy(slot, carry)
		carry = nil
		m, err := io.ReadFull(src, slot[off:])
		b.n += off + m
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			b.last = true
			return nil
		case err != nil:
			b.err = err
			return nil
		}
	}
	// The batch is full: it holds the last chunk only if src ends here.
	var ahead [1]byte
	switch _, err := io.ReadFull(src, ahead[:]); {
	case err == io.EOF:
		b.last = true
	case err != nil:
		b.err = err
	default:
		return ahead[:]
	}
	return nil
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
		n, werr := dst.Write(b.sealed())
		written += int64(n)
		if werr == nil && n != len(b.sealed()) {
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
func readBatches(src io.Reader, nbatch int, free <-chan *batch, jobs, order chan<- *batch, quit <-chan struct{}) {
	defer close(order)
	defer close(jobs)
	allocated := 0
	next := func() *batch {
		select {
		case b := <-free:
			return b
		default:
		}
		if allocated < nbatch {
			allocated++
			return &batch{buf: make([]byte, batchChunks*encChunkSize), done: make(chan struct{}, 1)}
		}
		select {
		case b := <-free:
			return b
		case <-quit:
			return nil
		}
	}
	var carry []byte
	for first := uint64(0); ; first += batchChunks {
		b := next()
		if b == nil {
			return
		}
		select {
		case <-quit:
			return
		default:
		}
		carry = b.fill(src, first, carry)
		order <- b
		if b.err != nil {
			return
		}
		jobs <- b
		if b.last {
			return
		}
	}
}
