package mz

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"

	"github.com/mnistzip/mnistzip/codec/pixels"
	"github.com/mnistzip/mnistzip/codec/streams"
)

// DecompressOptions controls decompression.
type DecompressOptions struct {
	Model Autoencoder // needed when the header names one; must be that one
	// LoadModel, if Model is nil, is called with the model id a header names (files that need no
	// model never pay for loading one).
	LoadModel func(id string) (Autoencoder, error)
	Workers   int // chunks decoded at once (0: GOMAXPROCS)
	Progress  func(done, total int64)
}

type chunkIn struct {
	kind    byte
	items   int
	payload []byte
}

// Decompress reads a .mz file from r and writes the restored IDX file to w. It checks every chunk's
// CRC before decoding it and the SHA-256 of everything restored at the end; on any error what was
// written to w is not to be trusted (callers write to a temporary file and rename it only on
// success). Memory stays bounded by a few chunks whatever the header claims.
func Decompress(r io.Reader, w io.Writer, opt DecompressOptions) (Header, error) {
	br := bufio.NewReader(r)
	h, err := ReadHeader(br)
	if err != nil {
		return h, err
	}
	if h.ModelID != "" && opt.Model == nil && opt.LoadModel != nil {
		if opt.Model, err = opt.LoadModel(h.ModelID); err != nil {
			return h, err
		}
	}
	if err := checkModel(h, opt.Model); err != nil {
		return h, err
	}
	p := chunkPlan(h.IDX)
	idxHead, _ := h.IDX.MarshalBinary()
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	if _, err := out.Write(idxHead); err != nil {
		return h, err
	}
	workers := opt.Workers
	if workers <= 0 {
		// At most 4 chunks in flight: each holds up to ~120 MB while it decodes.
		workers = min(runtime.GOMAXPROCS(0), 4)
	}
	var done int64
	// Read up to `workers` chunks, decode them in parallel, write them in order; repeat.
	for first := 0; first < h.Chunks; first += workers {
		batch := make([]chunkIn, 0, workers)
		for i := first; i < min(h.Chunks, first+workers); i++ {
			c, err := readChunk(br, i, p)
			if err != nil {
				return h, err
			}
			batch = append(batch, c)
		}
		results := make([][]byte, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for k := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					if r := recover(); r != nil { // no known path, but a bad file must never crash the host
						errs[k] = fmt.Errorf("%w: %v", ErrCorrupt, r)
					}
				}()
				results[k], errs[k] = decodeChunk(batch[k], h, p, opt.Model)
			}()
		}
		wg.Wait()
		for k := range batch {
			if errs[k] != nil {
				return h, fmt.Errorf("chunk %d: %w", first+k, errs[k])
			}
			if _, err := out.Write(results[k]); err != nil {
				return h, err
			}
			done += int64(batch[k].items)
			if opt.Progress != nil {
				opt.Progress(done, p.items)
			}
		}
	}
	var trailer [sha256.Size]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return h, fmt.Errorf("%w: the final checksum is missing", ErrTruncated)
	}
	if _, err := br.ReadByte(); err == nil {
		return h, fmt.Errorf("%w: bytes after the final checksum", ErrCorrupt)
	}
	if !bytes.Equal(trailer[:], sum.Sum(nil)) {
		why := ""
		if h.ModelID != "" {
			why = " (the model's arithmetic differs from the compressing machine's: decompress where it was compressed, on the same backend)"
		}
		return h, fmt.Errorf("%w: the restored file's SHA-256 is not the one recorded%s", ErrChecksum, why)
	}
	return h, nil
}

func readChunk(br *bufio.Reader, i int, p plan) (chunkIn, error) {
	var frame [9]byte
	if _, err := io.ReadFull(br, frame[:]); err != nil {
		return chunkIn{}, fmt.Errorf("%w: chunk %d of %d is missing", ErrTruncated, i+1, p.parts)
	}
	c := chunkIn{kind: frame[0], items: int(binary.BigEndian.Uint32(frame[1:]))}
	size := binary.BigEndian.Uint32(frame[5:])
	if c.kind >= numKinds {
		return c, fmt.Errorf("%w: chunk %d has unknown kind %d", ErrCorrupt, i+1, c.kind)
	}
	if c.items != p.size(i) {
		return c, fmt.Errorf("%w: chunk %d holds %d items, want %d", ErrCorrupt, i+1, c.items, p.size(i))
	}
	// No coder here expands data by more than a few percent plus a table per stream.
	if limit := uint64(c.items*p.itemBytes())*2 + 1<<20; uint64(size) > limit {
		return c, fmt.Errorf("%w: chunk %d claims %d bytes", ErrCorrupt, i+1, size)
	}
	c.payload = make([]byte, size+4)
	if _, err := io.ReadFull(br, c.payload); err != nil {
		return c, fmt.Errorf("%w: chunk %d of %d is cut short", ErrTruncated, i+1, p.parts)
	}
	want := binary.BigEndian.Uint32(c.payload[size:])
	c.payload = c.payload[:size]
	if crc32.Update(crc32.Checksum(frame[:], castagnoli), castagnoli, c.payload) != want {
		return c, fmt.Errorf("%w: chunk %d", ErrChecksum, i+1)
	}
	return c, nil
}

func decodeChunk(c chunkIn, h Header, p plan, m Autoencoder) ([]byte, error) {
	raw := c.items * p.itemBytes()
	var out []byte
	var err error
	if h.Lossy != (c.kind == kindLossy) {
		return nil, fmt.Errorf("%w: a %s chunk in a %s file", ErrCorrupt, kindNames[c.kind], map[bool]string{true: "lossy", false: "lossless"}[h.Lossy])
	}
	isPixels := c.kind == kindPixels || c.kind == kindPixelsR || c.kind == kindPixelsS
	isHinted := c.kind == kindPixelsAE || c.kind == kindPixelsAER || c.kind == kindPixelsAES
	if isHinted && h.ModelID == "" {
		return nil, fmt.Errorf("%w: an autoencoder chunk in a file that names no model", ErrCorrupt)
	}
	switch {
	case (isPixels || isHinted) && !p.images:
		return nil, fmt.Errorf("%w: pixel chunk in a file of %s", ErrCorrupt, h.IDX)
	case isPixels:
		m, _ := pixelModel(c.kind)
		out, err = pixels.Decode(c.payload, c.items, m, nil, 1)
	case isHinted:
		out, err = decodeHinted(c, m)
	}
	switch c.kind {
	case kindStored:
		out = c.payload
	case kindZstd:
		zstdCoders()
		out, err = zstdDec.DecodeAll(c.payload, make([]byte, 0, raw))
	case kindOrder0:
		var dec *streams.Decoder
		if dec, err = streams.NewDecoder(c.payload, 1, raw); err == nil {
			out = make([]byte, raw)
			for i := range out {
				if out[i], err = dec.Next(0); err != nil {
					break
				}
			}
			if err == nil {
				err = dec.Done()
			}
		}
	case kindLossy:
		var q []int8
		if q, err = decodeCodes(c.payload, c.items, m.CodeSize()); err == nil {
			var recon []float32
			if recon, err = m.Decode(dequantize(q, quantStep(h.Quality)), c.items); err == nil {
				out = toBytes(recon)
			}
		}
	}
	if err != nil {
		if errors.Is(err, streams.ErrCorrupt) {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, err
	}
	if len(out) != raw {
		return nil, fmt.Errorf("%w: decodes to %d bytes, want %d", ErrCorrupt, len(out), raw)
	}
	return out, nil
}

func decodeHinted(c chunkIn, m Autoencoder) ([]byte, error) {
	n, k := binary.Uvarint(c.payload)
	if k <= 0 || n > uint64(len(c.payload)-k) {
		return nil, fmt.Errorf("%w: autoencoder codes cut short", ErrCorrupt)
	}
	q, err := decodeCodes(c.payload[k:k+int(n)], c.items, m.CodeSize())
	if err != nil {
		return nil, err
	}
	hints, err := hintsFrom(q, c.items, m)
	if err != nil {
		return nil, err
	}
	pm, _ := pixelModel(c.kind)
	return pixels.Decode(c.payload[k+int(n):], c.items, pm, hints, hintLevels)
}

func decodeCodes(payload []byte, n, codeSize int) ([]int8, error) {
	dec, err := streams.NewDecoder(payload, codeSize, n*codeSize)
	if err != nil {
		return nil, err
	}
	q := make([]int8, n*codeSize)
	for i := range q {
		b, err := dec.Next(i % codeSize)
		if err != nil {
			return nil, err
		}
		q[i] = int8(b)
	}
	return q, dec.Done()
}

// Inspect reads a .mz file's header and chunk frames, checking their CRCs but decoding nothing, and
// returns the header, each chunk's kind and size, and the file's size.
func Inspect(r io.Reader) (Header, []ChunkStat, int64, error) {
	br := bufio.NewReader(r)
	h, err := ReadHeader(br)
	if err != nil {
		return h, nil, 0, err
	}
	head, _ := h.marshal()
	size := int64(len(head))
	p := chunkPlan(h.IDX)
	var stats []ChunkStat
	for i := range h.Chunks {
		c, err := readChunk(br, i, p)
		if err != nil {
			return h, stats, size, err
		}
		stats = append(stats, ChunkStat{Kind: kindNames[c.kind], Items: c.items, Bytes: len(c.payload) + 13})
		size += int64(len(c.payload) + 13)
	}
	var trailer [sha256.Size]byte
	if _, err := io.ReadFull(br, trailer[:]); err != nil {
		return h, stats, size, fmt.Errorf("%w: the final checksum is missing", ErrTruncated)
	}
	return h, stats, size + sha256.Size, nil
}
