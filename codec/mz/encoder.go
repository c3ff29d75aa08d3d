package mz

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// ChunkStat describes one chunk of a .mz file.
type ChunkStat struct {
	Kind         string // the coder's name
	Items, Bytes int    // images or bytes restored; bytes in the file, frame included
}

// Stats describes a compression.
type Stats struct {
	IDX     idx.Header // the input's header
	Gzipped bool       // the input was gzip-compressed (the .mz restores the raw IDX)
	In, Out int64      // raw IDX bytes in, .mz bytes out
	Chunks  []ChunkStat
}

// maxPendingHinted bounds what an Encoder with autoencoder hints holds back: the header names the
// model only if some chunk uses it, so frames wait until one does. Past this many bytes of waiting
// frames the header names the model anyway (a valid file: it then needs the model to decode).
const maxPendingHinted = 64 << 20

// maxZstdEncoders is the most zstd encoders an Encoder runs at once (see zstdEncoder).
const maxZstdEncoders = 2

// Encoder compresses IDX streams to .mz. It keeps no state between streams, so one Encoder
// compresses any number of files, one after another or at the same time.
type Encoder struct {
	cfg      config
	zstdOnce sync.Once
	zstd     *zstd.Encoder
	zstdErr  error
}

// NewEncoder returns an Encoder with the options (WithLossy, WithAEHints, WithModel,
// WithModelLoader, WithConcurrency, WithProgress), or the first option's error.
func NewEncoder(opts ...Option) (*Encoder, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkEncoder(); err != nil {
		return nil, err
	}
	return &Encoder{cfg: cfg}, nil
}

func (e *Encoder) zstdEncoder() (*zstd.Encoder, error) {
	e.zstdOnce.Do(func() {
		// EncodeAll runs one call per unit of concurrency, and each of these holds about 50 MB at
		// the best level (its match tables and window): two at most, whatever the chunks in flight.
		e.zstd, e.zstdErr = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(min(e.cfg.concurrency, maxZstdEncoders)))
	})
	return e.zstd, e.zstdErr
}

// Encode reads one IDX file (raw or gzip-compressed) from src and writes its .mz form to dst. It
// checks the IDX header before anything else, then reads, codes and writes the data chunk by chunk,
// so memory stays bounded whatever the header claims (see the package documentation). The input must
// end where its data does. On error, what was written to dst is not a valid file.
func (e *Encoder) Encode(dst io.Writer, src io.Reader) (Stats, error) {
	rd, err := idx.NewReader(src, idx.MaxDataSize(-1))
	if err != nil {
		return Stats{}, inputErr(err)
	}
	defer rd.Close()
	return e.encode(dst, rd)
}

func (e *Encoder) encode(dst io.Writer, rd *idx.Reader) (Stats, error) {
	h := rd.Header()
	st := Stats{IDX: h, Gzipped: rd.Gzipped()}
	cfg := &e.cfg
	images := isImages(h)
	if h.DataSize() == 0 {
		return st, fmt.Errorf("%w: %s holds no data", ErrEmpty, h)
	}
	if cfg.lossy && !images {
		return st, fmt.Errorf("%w, not %s", ErrNotImages, h)
	}
	p := chunkPlan(h)
	if p.parts > math.MaxUint32 {
		return st, fmt.Errorf("%w: %s would be %d chunks", ErrTooLarge, h, p.parts)
	}
	hdr := Header{Version: fileVersion(cfg, images), Lossy: cfg.lossy, Quality: cfg.quality, IDX: h, Chunks: int(p.parts)}
	hints := cfg.hints && images
	var model Autoencoder
	if cfg.lossy || hints {
		m, err := cfg.getModel("")
		if err != nil {
			return st, err
		}
		if m == nil {
			return st, fmt.Errorf("%w: lossy and hinted compression need a model", ErrNeedsModel)
		}
		if hdr.ModelID = m.ID(); hdr.ModelID == "" || !isHexID(hdr.ModelID) {
			return st, fmt.Errorf("%w: model id %q is not lowercase hex", ErrModel, hdr.ModelID)
		}
		model = m
	}
	zenc, err := e.zstdEncoder()
	if err != nil {
		return st, err
	}
	idxHead, _ := h.MarshalBinary()
	st.In = int64(len(idxHead)) + h.DataSize()
	out := &chunkWriter{w: dst, st: &st, hdr: hdr, sum: sha256.New()}
	out.sum.Write(idxHead)
	if !hints {
		// The header is known now: lossy files name their model, other files need none.
		if err := out.writeHeader(hdr.ModelID); err != nil {
			return st, err
		}
	}

	k := cfg.concurrency
	bufs := make([][]byte, k) // reused from batch to batch
	var mu sync.Mutex
	var done int64
	for first := int64(0); first < p.parts; first += int64(k) {
		batch := make([]*chunk, min(int64(k), p.parts-first))
		for j := range batch {
			i := first + int64(j)
			raw, err := readChunkData(rd, bufs[j], p.bytes(i))
			bufs[j] = raw
			if err != nil {
				return st, inputErr(err)
			}
			batch[j] = &chunk{raw: raw, items: p.size(i), size: len(raw), quality: cfg.quality, model: model, zstdEnc: zenc}
		}
		results := make([]codedChunk, len(batch))
		var wg sync.WaitGroup
		for j, c := range batch {
			wg.Go(func() {
				results[j] = codeChunk(c, cfg.level, cfg.lossy, images, hints)
				mu.Lock()
				defer mu.Unlock()
				done += int64(c.items)
				if cfg.progress != nil {
					cfg.progress(done, p.items)
				}
			})
		}
		wg.Wait()
		for j, r := range results {
			i := first + int64(j)
			c := batch[j]
			if r.err != nil {
				return st, coderErr(r.err, r.coder.name, i, p.parts, false)
			}
			if len(r.payload) > maxPayload(c.size) || (r.restored != nil && len(r.restored) != c.size) {
				return st, fmt.Errorf("mz: %s: the %s coder produced %d bytes for %d (restoring %d): a reader would refuse it", chunkName(i, p.parts), r.coder.name, len(r.payload), c.size, len(r.restored))
			}
			restored := c.raw
			if r.restored != nil {
				restored = r.restored
			}
			if err := out.add(r.coder, c.items, r.payload, restored, hints); err != nil {
				return st, err
			}
		}
	}
	var one [1]byte
	if _, err := rd.Read(one[:]); err != io.EOF {
		return st, inputErr(err) // bytes after the data, or a bad gzip trailer
	}
	if !out.headerDone {
		if err := out.writeHeader(""); err != nil { // no chunk uses the model
			return st, err
		}
	}
	n, err := dst.Write(out.sum.Sum(nil))
	st.Out += int64(n)
	return st, err
}

// maxPayload is the largest payload a reader accepts for a chunk of raw bytes: no coder expands data
// by more than a few percent plus a table per stream.
func maxPayload(raw int) int { return 2*raw + 1<<20 }

// readChunkData reads the size bytes of one chunk into buf's storage (reused from chunk to chunk).
// A new buffer takes the chunk's first MiB before it takes the chunk's size, so a header that
// promises more than the stream holds costs no more than a MiB.
func readChunkData(r io.Reader, buf []byte, size int) ([]byte, error) {
	if cap(buf) < size {
		first := min(size, 1<<20)
		if cap(buf) < first {
			buf = make([]byte, first)
		}
		if n, err := io.ReadFull(r, buf[:first]); err != nil {
			return buf[:n], err
		}
		if first < size {
			grown := make([]byte, size)
			copy(grown, buf[:first])
			n, err := io.ReadFull(r, grown[first:])
			return grown[:first+n], err
		}
		return buf[:size], nil
	}
	n, err := io.ReadFull(r, buf[:size])
	return buf[:n], err
}

type codedChunk struct {
	coder    *coder
	payload  []byte
	restored []byte // lossy: the reconstruction
	err      error
}

// fileVersion is the format version a file gets: the oldest that holds every coder the encoder may
// choose, so that files with no context-mixing chunk stay version 1.
func fileVersion(cfg *config, images bool) byte {
	v := byte(minVersion)
	for i := range coders {
		cd := &coders[i]
		if cd.levels&levelBit(cfg.level) != 0 && cd.lossy == cfg.lossy && (!cd.images || images) {
			v = max(v, cd.version)
		}
	}
	return v
}

// codeChunk codes one chunk: lossy files with the lossy coder, others with every coder that applies,
// keeping the smallest payload (the first of equals, in the table's order).
func codeChunk(c *chunk, level Level, lossy, images, hints bool) (best codedChunk) {
	defer func() {
		if r := recover(); r != nil { // no known path, but a coder bug must not crash the host
			best.err = fmt.Errorf("panic: %v", r)
		}
	}()
	for i := range coders {
		cd := &coders[i]
		if cd.lossy != lossy || (cd.images && !images) || (cd.model && !lossy && !hints) || cd.levels&levelBit(level) == 0 {
			continue
		}
		payload, err := cd.encode(c)
		if err != nil {
			return codedChunk{coder: cd, err: err}
		}
		if best.coder == nil || len(payload) < len(best.payload) {
			best = codedChunk{coder: cd, payload: payload}
		}
	}
	if best.coder == nil {
		return codedChunk{coder: &coders[0], err: fmt.Errorf("no coder applies")}
	}
	best.restored = c.restored
	return best
}

// chunkWriter writes the header and the chunk frames, holding frames back while the header waits
// for the first chunk that uses the model (hints).
type chunkWriter struct {
	w          io.Writer
	st         *Stats
	hdr        Header
	sum        hash.Hash
	headerDone bool
	pending    [][]byte
	pendingLen int
}

func (cw *chunkWriter) writeHeader(modelID string) error {
	cw.hdr.ModelID = modelID
	head, err := cw.hdr.marshal()
	if err != nil {
		return err
	}
	cw.headerDone = true
	if err := cw.write(head); err != nil {
		return err
	}
	for _, f := range cw.pending {
		if err := cw.write(f); err != nil {
			return err
		}
	}
	cw.pending, cw.pendingLen = nil, 0
	return nil
}

func (cw *chunkWriter) write(b []byte) error {
	n, err := cw.w.Write(b)
	cw.st.Out += int64(n)
	return err
}

// add writes (or holds back) one chunk's frame: kind, items, payload length, payload, CRC-32C.
func (cw *chunkWriter) add(cd *coder, items int, payload, restored []byte, hints bool) error {
	head := []byte{cd.id}
	head = binary.BigEndian.AppendUint32(head, uint32(items))
	head = binary.BigEndian.AppendUint32(head, uint32(len(payload)))
	crc := crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, payload)
	tail := binary.BigEndian.AppendUint32(nil, crc)
	cw.st.Chunks = append(cw.st.Chunks, ChunkStat{Kind: cd.name, Items: items, Bytes: len(head) + len(payload) + len(tail)})
	cw.sum.Write(restored)
	if cw.headerDone {
		for _, b := range [][]byte{head, payload, tail} {
			if err := cw.write(b); err != nil {
				return err
			}
		}
		return nil
	}
	cw.pending = append(cw.pending, head, payload, tail)
	cw.pendingLen += len(head) + len(payload) + len(tail)
	if cd.model || cw.pendingLen > maxPendingHinted {
		return cw.writeHeader(cw.hdr.ModelID)
	}
	return nil
}

// Writer is an io.WriteCloser that compresses the IDX file (raw or gzip-compressed) written to it:
// the .mz form goes to the underlying writer chunk by chunk as the data arrives, and Close finishes
// it. Once compression has failed (a header that is not IDX, say), the next Write returns the
// error. Close must be called (it also reports a file that ends early); it does not close the
// underlying writer.
type Writer struct {
	enc    *Encoder
	pw     *io.PipeWriter
	done   chan encodeResult
	closed bool
	res    encodeResult
}

type encodeResult struct {
	st  Stats
	err error
}

// NewWriter returns a Writer compressing to dst with the options of NewEncoder.
func NewWriter(dst io.Writer, opts ...Option) (*Writer, error) {
	enc, err := NewEncoder(opts...)
	if err != nil {
		return nil, err
	}
	w := &Writer{enc: enc}
	w.Reset(dst)
	return w, nil
}

// Reset discards the Writer's state (an unfinished stream is abandoned) and makes it compress a new
// file to dst, with the same options.
func (w *Writer) Reset(dst io.Writer) {
	if w.pw != nil && !w.closed {
		w.pw.CloseWithError(fmt.Errorf("%w: Writer reset", ErrClosed))
		<-w.done
	}
	pr, pw := io.Pipe()
	done := make(chan encodeResult, 1)
	go func() {
		st, err := w.enc.Encode(dst, pr)
		if err != nil {
			pr.CloseWithError(err) // the next Write returns it
		} else {
			pr.CloseWithError(fmt.Errorf("%w: the IDX file is complete", ErrClosed))
		}
		done <- encodeResult{st, err}
	}()
	w.pw, w.done, w.closed, w.res = pw, done, false, encodeResult{}
}

// Write compresses p, bytes of the IDX file.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("%w: Write after Close", ErrClosed)
	}
	return w.pw.Write(p)
}

// Close finishes the .mz file: the IDX file must be complete.
func (w *Writer) Close() error {
	if !w.closed {
		w.pw.Close()
		w.res = <-w.done
		w.closed = true
	}
	return w.res.err
}

// Stats describes the compression, once Close has returned.
func (w *Writer) Stats() Stats { return w.res.st }
