package mz

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/pixels"
	"github.com/mnistzip/mnistzip/codec/streams"
)

// Options controls compression.
type Options struct {
	Lossy   bool
	Quality int         // lossy: 1 (smallest) … 9 (best); 0 means DefaultQuality
	Model   Autoencoder // needed for Lossy and AEHints
	// AEHints also tries, for every image chunk, the pixel model with the autoencoder's
	// reconstruction as extra context, and keeps it where it is smaller. It costs an encoder and a
	// decoder pass over the images (and the same decoder pass to decompress).
	AEHints  bool
	Workers  int                     // chunks coded at once (0: GOMAXPROCS)
	Progress func(done, total int64) // items (images or bytes) finished so far; called from one goroutine at a time
}

// ChunkStat describes one written chunk.
type ChunkStat struct {
	Kind         string
	Items, Bytes int
}

// Stats describes a compression.
type Stats struct {
	In, Out int64 // raw IDX bytes in, .mz bytes out
	Chunks  []ChunkStat
}

// hintLevels and hintStep: the lossless autoencoder hints quantize the code with step 16 (about 3
// bytes per image for the shipped autoencoder) and the reconstruction to 16 levels.
const (
	hintLevels = 16
	hintStep   = 16
)

type chunkOut struct {
	kind     byte
	payload  []byte
	restored []byte // lossy: the reconstruction bytes
	err      error
}

// Compress writes the .mz form of the IDX file (h, data) to w.
func Compress(w io.Writer, h idx.Header, data []byte, opt Options) (Stats, error) {
	var st Stats
	if err := h.Validate(); err != nil {
		return st, err
	}
	if int64(len(data)) != h.DataSize() {
		return st, fmt.Errorf("mz: %d data bytes for %s", len(data), h)
	}
	if len(data) == 0 {
		return st, fmt.Errorf("%w: %s holds no data", ErrEmpty, h)
	}
	hdr := Header{Version: Version, Lossy: opt.Lossy, IDX: h}
	if opt.Lossy {
		if !isImages(h) {
			return st, fmt.Errorf("%w, not %s", ErrNotImages, h)
		}
		if opt.Quality == 0 {
			opt.Quality = DefaultQuality
		}
		if opt.Quality < 1 || opt.Quality > MaxQuality {
			return st, fmt.Errorf("mz: quality %d is not in 1…%d", opt.Quality, MaxQuality)
		}
		hdr.Quality = opt.Quality
	}
	opt.AEHints = opt.AEHints && !opt.Lossy && isImages(h)
	if opt.Lossy || opt.AEHints {
		if opt.Model == nil {
			return st, fmt.Errorf("mz: %w", ErrNeedsModel)
		}
		hdr.ModelID = opt.Model.ID()
		if !isHexID(hdr.ModelID) {
			return st, fmt.Errorf("mz: model id %q is not lowercase hex", hdr.ModelID)
		}
	}
	p := chunkPlan(h)
	hdr.Chunks = int(p.parts)
	idxHead, _ := h.MarshalBinary()
	st.In = int64(len(idxHead) + len(data))

	// Code the chunks, several at once, then write them in order.
	outs := make([]chunkOut, p.parts)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var mu sync.Mutex
	var done int64
	var wg sync.WaitGroup
	next := make(chan int)
	offset := make([]int, p.parts+1)
	for i := range int(p.parts) {
		offset[i+1] = offset[i] + p.size(i)*p.itemBytes()
	}
	for range min(workers, int(p.parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i] = compressChunk(data[offset[i]:offset[i+1]], p.images, opt)
				mu.Lock()
				done += int64(p.size(i))
				if opt.Progress != nil {
					opt.Progress(done, p.items)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range outs {
		next <- i
	}
	close(next)
	wg.Wait()

	// The header names the model only if some chunk needs it.
	needsModel := opt.Lossy
	for i, c := range outs {
		if c.err != nil {
			return st, fmt.Errorf("chunk %d: %w", i, c.err)
		}
		if _, hinted := pixelModel(c.kind); hinted {
			needsModel = true
		}
		raw := p.size(i) * p.itemBytes()
		if len(c.payload) > 2*raw+1<<20 || (c.restored != nil && len(c.restored) != raw) {
			return st, fmt.Errorf("chunk %d: the coder produced %d bytes for %d (restoring %d): a reader would refuse it", i, len(c.payload), raw, len(c.restored))
		}
	}
	if !needsModel {
		hdr.ModelID = ""
	}
	head, err := hdr.marshal()
	if err != nil {
		return st, err
	}
	sum := sha256.New()
	sum.Write(idxHead)
	if _, err := w.Write(head); err != nil {
		return st, err
	}
	st.Out = int64(len(head))
	for i, c := range outs {
		frame := []byte{c.kind}
		frame = binary.BigEndian.AppendUint32(frame, uint32(p.size(i)))
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(c.payload)))
		crc := crc32.Update(crc32.Checksum(frame, castagnoli), castagnoli, c.payload)
		frame = append(frame, c.payload...)
		frame = binary.BigEndian.AppendUint32(frame, crc)
		if _, err := w.Write(frame); err != nil {
			return st, err
		}
		st.Out += int64(len(frame))
		st.Chunks = append(st.Chunks, ChunkStat{Kind: kindNames[c.kind], Items: p.size(i), Bytes: len(frame)})
		if c.restored != nil {
			sum.Write(c.restored)
		} else {
			sum.Write(data[offset[i]:offset[i+1]])
		}
	}
	n, err := w.Write(sum.Sum(nil))
	st.Out += int64(n)
	return st, err
}

// compressChunk codes one chunk with every coder that applies and keeps the smallest.
func compressChunk(raw []byte, images bool, opt Options) chunkOut {
	if opt.Lossy {
		return lossyChunk(raw, opt)
	}
	best := chunkOut{kind: kindStored, payload: raw}
	try := func(kind byte, payload []byte, err error) {
		if err != nil {
			best.err = err
		} else if len(payload) < len(best.payload) {
			best.kind, best.payload = kind, payload
		}
	}
	b, err := zstdCompress(raw)
	try(kindZstd, b, err)
	enc := streams.NewEncoder(1)
	for _, v := range raw {
		enc.Put(0, v)
	}
	b, err = enc.Bytes()
	try(kindOrder0, b, err)
	if images {
		n := len(raw) / imageSize
		for _, m := range pixels.Models {
			b, err := pixels.Encode(raw, m, nil, 1)
			try(pixelKind(m), b, err)
		}
		if opt.AEHints {
			codes, hints, err := aeHints(raw, n, opt.Model)
			if err != nil {
				return chunkOut{err: err}
			}
			for _, m := range pixels.Models {
				b, err := pixels.Encode(raw, m, hints, hintLevels)
				try(hintedKind(m), append(binary.AppendUvarint(nil, uint64(len(codes))), append(codes, b...)...), err)
			}
		}
	}
	return best
}

// aeHints encodes the images, quantizes the codes (returned entropy-coded) and quantizes the
// decoder's reconstruction from them to hint levels.
func aeHints(raw []byte, n int, m Autoencoder) (coded []byte, hints []uint8, err error) {
	codes, err := m.Encode(toFloats(raw), n)
	if err != nil {
		return nil, nil, err
	}
	q := quantize(codes, hintStep)
	if coded, err = codeStreams(q, m.CodeSize()); err != nil {
		return nil, nil, err
	}
	hints, err = hintsFrom(q, n, m)
	return coded, hints, err
}

func hintsFrom(q []int8, n int, m Autoencoder) ([]uint8, error) {
	recon, err := m.Decode(dequantize(q, hintStep), n)
	if err != nil {
		return nil, err
	}
	hints := make([]uint8, len(recon))
	for i, v := range recon {
		hints[i] = uint8(max(0, min(hintLevels-1, int(v*hintLevels))))
	}
	return hints, nil
}

func lossyChunk(raw []byte, opt Options) chunkOut {
	n := len(raw) / imageSize
	codes, err := opt.Model.Encode(toFloats(raw), n)
	if err != nil {
		return chunkOut{err: err}
	}
	step := quantStep(opt.Quality)
	q := quantize(codes, step)
	payload, err := codeStreams(q, opt.Model.CodeSize())
	if err != nil {
		return chunkOut{err: err}
	}
	recon, err := opt.Model.Decode(dequantize(q, step), n)
	if err != nil {
		return chunkOut{err: err}
	}
	return chunkOut{kind: kindLossy, payload: payload, restored: toBytes(recon)}
}

// codeStreams entropy-codes quantized codes, one stream per code dimension.
func codeStreams(q []int8, codeSize int) ([]byte, error) {
	enc := streams.NewEncoder(codeSize)
	for i, v := range q {
		enc.Put(i%codeSize, byte(v))
	}
	return enc.Bytes()
}

func toFloats(raw []byte) []float32 {
	out := make([]float32, len(raw))
	for i, v := range raw {
		out[i] = float32(v) / 255
	}
	return out
}

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

func zstdCoders() {
	zstdOnce.Do(func() {
		// EncodeAll and DecodeAll run one call per unit of concurrency: one per core, as the
		// chunks run in parallel.
		n := runtime.GOMAXPROCS(0)
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(n))
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(n), zstd.WithDecoderMaxMemory(maxChunkImagesDefault*imageSize+1))
	})
}

func zstdCompress(raw []byte) ([]byte, error) {
	zstdCoders()
	return zstdEnc.EncodeAll(raw, nil), nil
}
