package mz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Decoder restores IDX files from .mz. It keeps no state between streams, so one Decoder restores
// any number of files, one after another or at the same time.
type Decoder struct {
	cfg      config
	zstdOnce sync.Once
	zstd     *zstd.Decoder
	zstdErr  error
}

// NewDecoder returns a Decoder with the options (WithModel, WithModelLoader, WithConcurrency,
// WithProgress), or the first option's error.
func NewDecoder(opts ...Option) (*Decoder, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return &Decoder{cfg: cfg}, nil
}

func (d *Decoder) zstdDecoder() (*zstd.Decoder, error) {
	d.zstdOnce.Do(func() {
		d.zstd, d.zstdErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(d.cfg.concurrency),
			zstd.WithDecoderMaxMemory(maxChunkImagesDefault*imageSize+1))
	})
	return d.zstd, d.zstdErr
}

// Decode reads a .mz file from src and writes the restored IDX file to dst. It checks every chunk's
// CRC before decoding it and the SHA-256 of everything restored at the end, and refuses bytes after
// the file's end; on any error what was written to dst is not to be trusted (hosts write to a
// temporary file and rename it only on success). Memory stays bounded by the chunks in flight
// whatever the header claims.
func (d *Decoder) Decode(dst io.Writer, src io.Reader) (Header, error) {
	s, err := d.start(src)
	if err != nil {
		return s.h, err
	}
	if _, err := dst.Write(s.idxHead); err != nil {
		return s.h, err
	}
	for {
		batch, err := s.nextBatch()
		if err == io.EOF {
			return s.h, nil
		}
		if err != nil {
			return s.h, err
		}
		for _, b := range batch {
			if _, err := dst.Write(b); err != nil {
				return s.h, err
			}
		}
	}
}

// stream is one .mz file being decoded.
type stream struct {
	cfg     *config
	br      *bufio.Reader
	h       Header
	p       plan
	model   Autoencoder
	zdec    func() (*zstd.Decoder, error)
	idxHead []byte
	sum     hash.Hash
	next    int64 // chunks decoded so far
	done    int64 // items decoded so far
}

// start reads and checks the header and prepares the model the file names.
func (d *Decoder) start(src io.Reader) (*stream, error) {
	s := &stream{cfg: &d.cfg, br: bufio.NewReader(src)}
	var err error
	if s.h, err = ReadHeader(s.br); err != nil {
		return s, err
	}
	if s.h.ModelID != "" {
		if s.model, err = d.cfg.getModel(s.h.ModelID); err != nil {
			return s, err
		}
	}
	if err := checkModel(s.h, s.model); err != nil {
		return s, err
	}
	s.zdec = d.zstdDecoder
	s.p = chunkPlan(s.h.IDX)
	s.idxHead, _ = s.h.IDX.MarshalBinary()
	s.sum = sha256.New()
	s.sum.Write(s.idxHead)
	return s, nil
}

// nextBatch reads up to the concurrency's number of chunks, decodes them in parallel and returns
// them in order. After the last chunk it checks the final SHA-256 and the end of the stream, and
// returns io.EOF.
func (s *stream) nextBatch() ([][]byte, error) {
	if s.next == s.p.parts {
		return nil, s.finish()
	}
	batch := make([]chunkIn, min(int64(s.cfg.concurrency), s.p.parts-s.next))
	for j := range batch {
		c, err := readChunk(s.br, s.next+int64(j), s.h, s.p)
		if err != nil {
			return nil, err
		}
		batch[j] = c
	}
	out := make([][]byte, len(batch))
	errs := make([]error, len(batch))
	var wg sync.WaitGroup
	for j := range batch {
		wg.Go(func() { out[j], errs[j] = s.decodeChunk(batch[j]) })
	}
	wg.Wait()
	for j, c := range batch {
		if errs[j] != nil {
			return nil, coderErr(errs[j], c.coder.name, c.index, s.p.parts, true)
		}
		if len(out[j]) != c.size {
			return nil, fmt.Errorf("%w: %s: %s decodes to %d bytes, want %d", ErrCorrupt, chunkName(c.index, s.p.parts), c.coder.name, len(out[j]), c.size)
		}
		s.sum.Write(out[j])
		s.done += int64(c.items)
		if s.cfg.progress != nil {
			s.cfg.progress(s.done, s.p.items)
		}
	}
	s.next += int64(len(batch))
	return out, nil
}

func (s *stream) decodeChunk(c chunkIn) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // no known path, but a bad file must never crash the host
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return c.coder.decode(&chunk{items: c.items, size: c.size, quality: s.h.Quality, model: s.model, zstdDec: s.zdec}, c.payload)
}

// finish checks the trailer and that nothing follows it.
func (s *stream) finish() error {
	var trailer [sha256.Size]byte
	if _, err := io.ReadFull(s.br, trailer[:]); err != nil {
		return fmt.Errorf("%w: the final checksum is missing", ErrTruncated)
	}
	if err := checkEnd(s.br); err != nil {
		return err
	}
	if !bytes.Equal(trailer[:], s.sum.Sum(nil)) {
		why := ""
		if s.h.ModelID != "" {
			why = " (the model's arithmetic differs from the compressing machine's: decompress where it was compressed, on the same backend)"
		}
		return fmt.Errorf("%w: the restored file's SHA-256 is not the one recorded%s", ErrChecksum, why)
	}
	return io.EOF
}

// checkEnd refuses bytes after the final checksum (the same words for Decode and Inspect).
func checkEnd(br *bufio.Reader) error {
	if _, err := br.ReadByte(); err == nil {
		return fmt.Errorf("%w: bytes follow the final checksum (one .mz file holds one IDX file; concatenated .mz files are not read)", ErrCorrupt)
	} else if err != io.EOF {
		return err
	}
	return nil
}

type chunkIn struct {
	coder   *coder
	index   int64 // 0-based
	items   int
	size    int // restored bytes
	payload []byte
}

// readChunk reads and checks the frame of chunk i: known kind, one that the file can hold, the
// plan's item count, a payload no coder would exceed, and the CRC.
func readChunk(br *bufio.Reader, i int64, h Header, p plan) (chunkIn, error) {
	name := chunkName(i, p.parts)
	var frame [9]byte
	if n, err := io.ReadFull(br, frame[:]); err != nil {
		if n == 0 && err == io.EOF {
			return chunkIn{}, fmt.Errorf("%w: %s is missing", ErrTruncated, name)
		}
		return chunkIn{}, fmt.Errorf("%w: %s is cut short", ErrTruncated, name)
	}
	c := chunkIn{coder: coderByID[frame[0]], index: i, items: int(binary.BigEndian.Uint32(frame[1:]))}
	size := binary.BigEndian.Uint32(frame[5:])
	if c.coder == nil {
		return c, fmt.Errorf("%w: %s has unknown kind %d", ErrCorrupt, name, frame[0])
	}
	if err := checkKind(c.coder, h, p); err != nil {
		return c, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	if c.items != p.size(i) {
		return c, fmt.Errorf("%w: %s holds %d items, want %d", ErrCorrupt, name, c.items, p.size(i))
	}
	c.size = p.bytes(i)
	if uint64(size) > uint64(maxPayload(c.size)) {
		return c, fmt.Errorf("%w: %s claims %d bytes", ErrCorrupt, name, size)
	}
	// Taken as it arrives (a MiB first): a frame that claims 48 MB and holds 10 bytes costs a MiB.
	var err error
	if c.payload, err = readChunkData(br, nil, int(size)+4); err != nil {
		return c, fmt.Errorf("%w: %s is cut short", ErrTruncated, name)
	}
	want := binary.BigEndian.Uint32(c.payload[size:])
	c.payload = c.payload[:size]
	if crc32.Update(crc32.Checksum(frame[:], castagnoli), castagnoli, c.payload) != want {
		return c, fmt.Errorf("%w: %s", ErrChecksum, name)
	}
	return c, nil
}

// checkKind refuses a chunk kind the file cannot hold.
func checkKind(c *coder, h Header, p plan) error {
	switch {
	case c.version > h.Version:
		return fmt.Errorf("a %s chunk in a version %d file", c.name, h.Version)
	case h.Lossy != c.lossy:
		return fmt.Errorf("a %s chunk in a %s file", c.name, map[bool]string{true: "lossy", false: "lossless"}[h.Lossy])
	case c.images && !p.images:
		return fmt.Errorf("a %s chunk in a file of %s", c.name, h.IDX)
	case c.model && h.ModelID == "":
		return fmt.Errorf("a %s chunk in a file that names no model", c.name)
	}
	return nil
}

// Reader is an io.Reader of the IDX file restored from a .mz stream, decoded chunk by chunk as it is
// read. As with gzip, the bytes are only known good once Read has returned io.EOF: the final
// SHA-256 is checked at the end.
type Reader struct {
	dec     *Decoder
	s       *stream
	cur     []byte
	pending [][]byte
	err     error
}

// NewReader reads and checks the header of the .mz stream src (loading the model it names, if
// WithModelLoader was given) and returns a Reader of the restored IDX file, with the options of
// NewDecoder.
func NewReader(src io.Reader, opts ...Option) (*Reader, error) {
	dec, err := NewDecoder(opts...)
	if err != nil {
		return nil, err
	}
	r := &Reader{dec: dec}
	if err := r.Reset(src); err != nil {
		return nil, err
	}
	return r, nil
}

// Reset makes the Reader restore a new .mz stream, with the same options.
func (r *Reader) Reset(src io.Reader) error {
	r.s, r.err = r.dec.start(src)
	r.pending = nil
	r.cur = nil
	if r.err == nil {
		r.cur = r.s.idxHead
	}
	return r.err
}

// Header is the .mz header.
func (r *Reader) Header() Header { return r.s.h }

// Read reads restored IDX bytes.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		switch {
		case len(r.pending) > 0:
			r.cur, r.pending = r.pending[0], r.pending[1:]
		case r.err != nil:
			return 0, r.err
		default:
			r.pending, r.err = r.s.nextBatch()
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Inspect reads a .mz file's header and chunk frames, checking them and their CRCs but decoding
// nothing, and returns the header, each chunk's kind and size, and the file's size. It refuses what
// Decode refuses before decoding (truncation, bytes after the end, chunk kinds the file cannot
// hold), with the same errors.
func Inspect(src io.Reader) (Header, []ChunkStat, int64, error) {
	br := bufio.NewReader(src)
	h, err := ReadHeader(br)
	if err != nil {
		return h, nil, 0, err
	}
	head, _ := h.marshal()
	size := int64(len(head))
	p := chunkPlan(h.IDX)
	var stats []ChunkStat
	for i := range int64(h.Chunks) {
		c, err := readChunk(br, i, h, p)
		if err != nil {
			return h, stats, size, err
		}
		stats = append(stats, ChunkStat{Kind: c.coder.name, Items: c.items, Bytes: len(c.payload) + 13})
		size += int64(len(c.payload) + 13)
	}
	var trailer [sha256.Size]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return h, stats, size, fmt.Errorf("%w: the final checksum is missing", ErrTruncated)
	}
	if err := checkEnd(br); err != nil {
		return h, stats, size, err
	}
	return h, stats, size + sha256.Size, nil
}
