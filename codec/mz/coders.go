package mz

import (
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/mnistzip/mnistzip/codec/pixels"
	"github.com/mnistzip/mnistzip/codec/streams"
)

// A coder turns the bytes of one chunk into a payload and back; its id is the chunk's kind byte.
// Adding a coder is adding one entry to coders.
type coder struct {
	id     byte
	name   string
	images bool // applies only to chunks of 28×28 ubyte images
	model  bool // needs the autoencoder: a file with such a chunk names its model
	lossy  bool // a lossy file's kind: the only kind lossy files hold, never tried for lossless ones
	// levels: the levels that try it (a decoder reads every kind its file's version holds).
	levels levelSet
	// version: the first format version that holds the kind.
	version byte
	encode  func(c *chunk) ([]byte, error)
	decode  func(c *chunk, payload []byte) ([]byte, error)
}

// coders in the order a lossless chunk tries them: the first of equally small payloads wins, so the
// order is part of what makes a file (format version 1 depends on it; ids need not follow it).
//
// LevelBest tries the context-mixing coder and, beside it, only the coders that bound the worst
// case (stored, zstd, order-0): on MNIST the pixel-stream coders lose to it by a fifth, and
// skipping them saves their time and memory.
var coders = []coder{
	{id: 0, name: "stored", levels: allLevels, version: 1, encode: func(c *chunk) ([]byte, error) { return c.raw, nil }, decode: decodeStored},
	{id: 1, name: "zstd", levels: allLevels, version: 1, encode: encodeZstd, decode: decodeZstd},
	{id: 7, name: "order-0", levels: allLevels, version: 1, encode: encodeOrder0, decode: decodeOrder0},
	pixelCoder(2, "pixels", pixels.Basic),
	pixelCoder(3, "pixels-rich", pixels.Rich),
	pixelCoder(8, "pixels-small", pixels.Small),
	hintedCoder(4, "pixels+ae", pixels.Basic),
	hintedCoder(5, "pixels-rich+ae", pixels.Rich),
	hintedCoder(9, "pixels-small+ae", pixels.Small),
	{id: 6, name: "ae-codes", images: true, model: true, lossy: true, levels: allLevels, version: 1, encode: encodeLossy, decode: decodeLossy},
	{id: 10, name: "cm", images: true, levels: levelBit(LevelBest), version: 2, encode: encodeCM, decode: decodeCM},
}

// coderByID finds a chunk kind's coder (nil: no such kind).
var coderByID = func() (t [256]*coder) {
	for i := range coders {
		c := &coders[i]
		if t[c.id] != nil {
			panic(fmt.Sprintf("mz: chunk kind %d declared twice", c.id))
		}
		t[c.id] = c
	}
	return t
}()

// CoderInfo describes one chunk coder, for hosts that list them (mnistzip info).
type CoderInfo struct {
	Kind       byte   // the chunk kind byte
	Name       string // as ChunkStat.Kind reports it
	ImagesOnly bool   // applies only to 28×28 ubyte images
	NeedsModel bool   // decoding it needs the autoencoder
	Lossy      bool   // the coder of lossy files
}

// Coders lists the chunk coders in the order compression tries them.
func Coders() []CoderInfo {
	out := make([]CoderInfo, len(coders))
	for i, c := range coders {
		out[i] = CoderInfo{Kind: c.id, Name: c.name, ImagesOnly: c.images, NeedsModel: c.model, Lossy: c.lossy}
	}
	return out
}

// kindName names a chunk kind.
func kindName(kind byte) string {
	if c := coderByID[kind]; c != nil {
		return c.name
	}
	return fmt.Sprintf("kind %d", kind)
}

// chunk is one chunk being coded: its bytes (the payload's decoding target), what the coders share.
type chunk struct {
	raw     []byte // encoding: the chunk's bytes
	items   int    // images, or bytes
	size    int    // the chunk's bytes: items × 784 for images
	quality int    // lossy quality (the file's, when decoding)
	model   Autoencoder
	zstdEnc *zstd.Encoder
	zstdDec func() (*zstd.Decoder, error) // made on first use: most files hold no zstd chunk

	// The autoencoder hints, computed once for the three hinted coders.
	hinted    bool
	hintCodes []byte // entropy-coded quantized codes
	hints     []uint8
	hintErr   error

	restored []byte // lossy encoding: the reconstruction, which the file's SHA-256 covers
}

// hintsFor computes (once) the chunk's autoencoder codes, entropy-coded, and the reconstruction
// quantized to hint levels.
func (c *chunk) hintsFor() ([]byte, []uint8, error) {
	if !c.hinted {
		c.hinted = true
		codes, err := encodeImages(c.model, toFloats(c.raw), c.items)
		if err == nil {
			q := quantize(codes, hintStep)
			if c.hintCodes, err = codeStreams(q, c.model.CodeSize()); err == nil {
				c.hints, err = hintsFrom(q, c.items, c.model)
			}
		}
		c.hintErr = err
	}
	return c.hintCodes, c.hints, c.hintErr
}

// hintLevels and hintStep: the lossless autoencoder hints quantize the code with step 16 (about 3
// bytes per image for the shipped autoencoder) and the reconstruction to 16 levels.
const (
	hintLevels = 16
	hintStep   = 16
)

func hintsFrom(q []int8, n int, m Autoencoder) ([]uint8, error) {
	recon, err := decodeImages(m, dequantize(q, hintStep), n)
	if err != nil {
		return nil, err
	}
	hints := make([]uint8, len(recon))
	for i, v := range recon {
		hints[i] = uint8(max(0, min(hintLevels-1, int(v*hintLevels))))
	}
	return hints, nil
}

func decodeStored(_ *chunk, payload []byte) ([]byte, error) { return payload, nil }

func encodeZstd(c *chunk) ([]byte, error) { return c.zstdEnc.EncodeAll(c.raw, nil), nil }

func decodeZstd(c *chunk, payload []byte) ([]byte, error) {
	dec, err := c.zstdDec()
	if err != nil {
		return nil, err
	}
	return dec.DecodeAll(payload, make([]byte, 0, c.size))
}

func encodeOrder0(c *chunk) ([]byte, error) { return streams.EncodeStream(c.raw) }

func decodeOrder0(c *chunk, payload []byte) ([]byte, error) {
	dec, err := streams.NewDecoder(payload, 1, c.size)
	if err != nil {
		return nil, err
	}
	out := make([]byte, c.size)
	for i := range out {
		if out[i], err = dec.Next(0); err != nil {
			return nil, err
		}
	}
	return out, dec.Done()
}

func pixelCoder(id byte, name string, m pixels.Model) coder {
	return coder{id: id, name: name, images: true, levels: levelBit(LevelFast), version: 1,
		encode: func(c *chunk) ([]byte, error) { return pixels.Encode(c.raw, m, nil, 1) },
		decode: func(c *chunk, payload []byte) ([]byte, error) { return pixels.Decode(payload, c.items, m, nil, 1) },
	}
}

// hintedCoder: uvarint length, the entropy-coded autoencoder codes (step 16), then the pixel streams
// of model m with the reconstruction as a hint.
func hintedCoder(id byte, name string, m pixels.Model) coder {
	return coder{id: id, name: name, images: true, model: true, levels: allLevels, version: 1,
		encode: func(c *chunk) ([]byte, error) {
			codes, hints, err := c.hintsFor()
			if err != nil {
				return nil, err
			}
			b, err := pixels.Encode(c.raw, m, hints, hintLevels)
			return append(binary.AppendUvarint(nil, uint64(len(codes))), append(codes, b...)...), err
		},
		decode: func(c *chunk, payload []byte) ([]byte, error) {
			n, k := binary.Uvarint(payload)
			if k <= 0 || n > uint64(len(payload)-k) {
				return nil, fmt.Errorf("autoencoder codes cut short")
			}
			q, err := decodeCodes(payload[k:k+int(n)], c.items, c.model.CodeSize())
			if err != nil {
				return nil, err
			}
			hints, err := hintsFrom(q, c.items, c.model)
			if err != nil {
				return nil, err
			}
			return pixels.Decode(payload[k+int(n):], c.items, m, hints, hintLevels)
		},
	}
}

func encodeLossy(c *chunk) ([]byte, error) {
	codes, err := encodeImages(c.model, toFloats(c.raw), c.items)
	if err != nil {
		return nil, err
	}
	step := quantStep(c.quality)
	q := quantize(codes, step)
	payload, err := codeStreams(q, c.model.CodeSize())
	if err != nil {
		return nil, err
	}
	recon, err := decodeImages(c.model, dequantize(q, step), c.items)
	if err != nil {
		return nil, err
	}
	c.restored = toBytes(recon)
	return payload, nil
}

func decodeLossy(c *chunk, payload []byte) ([]byte, error) {
	q, err := decodeCodes(payload, c.items, c.model.CodeSize())
	if err != nil {
		return nil, err
	}
	recon, err := decodeImages(c.model, dequantize(q, quantStep(c.quality)), c.items)
	if err != nil {
		return nil, err
	}
	return toBytes(recon), nil
}

// codeStreams entropy-codes quantized codes, one stream per code dimension.
func codeStreams(q []int8, codeSize int) ([]byte, error) {
	enc := streams.NewEncoder(codeSize)
	for i, v := range q {
		enc.Put(i%codeSize, byte(v))
	}
	return enc.Bytes()
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
