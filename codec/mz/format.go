package mz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// Magic starts every .mz file: a non-ASCII byte (so no text tool takes it for text), "MZ", and a
// newline (caught by transfers that rewrite line ends).
var Magic = [4]byte{0x89, 'M', 'Z', '\n'}

// Version is the newest format version this package writes and reads. Version 2 adds the
// context-mixing image coder (chunk kind 10); a file holds version 2 only when LevelBest codes
// images, so every other file is byte for byte the version 1 file it always was, and older
// mnistzips read it.
const Version = 2

// minVersion is the oldest format version this package reads.
const minVersion = 1

const (
	flagLossy = 1 << 0

	// Chunk limits: at most this many images (the pixel model's coding tables are paid once per
	// chunk, so chunks are large; train-images splits in two, one per core) or bytes per chunk.
	maxChunkImagesDefault = 30000
	maxChunkBytesDefault  = 8 << 20

	imageSize = 28 * 28
)

// The chunk limits in force (variables so tests can make small files with many chunks).
var (
	maxChunkImages = maxChunkImagesDefault
	maxChunkBytes  = maxChunkBytesDefault
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is the part of a .mz file before the chunks.
type Header struct {
	Version byte
	Lossy   bool
	Quality int    // lossy: 1…9
	ModelID string // the autoencoder the file needs ("" for none)
	IDX     idx.Header
	Chunks  int
}

// Images reports whether the IDX holds 28×28 ubyte images, the shape the model codes.
func (h Header) Images() bool { return isImages(h.IDX) }

func isImages(h idx.Header) bool {
	return h.Type == idx.Ubyte && len(h.Dims) == 3 && h.Dims[1] == 28 && h.Dims[2] == 28
}

func (h Header) marshal() ([]byte, error) {
	idxBytes, err := h.IDX.MarshalBinary()
	if err != nil {
		return nil, err
	}
	if len(h.ModelID) > 255 {
		return nil, fmt.Errorf("model id %q too long", h.ModelID)
	}
	b := append([]byte(nil), Magic[:]...)
	var flags byte
	if h.Lossy {
		flags |= flagLossy
	}
	v := h.Version
	if v == 0 {
		v = minVersion
	}
	b = append(b, v, flags, byte(h.Quality), byte(len(h.ModelID)))
	b = append(b, h.ModelID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(idxBytes)))
	b = append(b, idxBytes...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.IDX.DataSize()))
	b = binary.BigEndian.AppendUint32(b, uint32(h.Chunks))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// ReadHeader reads and checks a .mz header.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	fixed := make([]byte, 8)
	if n, err := io.ReadFull(r, fixed); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !bytes.HasPrefix(Magic[:], fixed[:n]) {
				return h, fmt.Errorf("%w: it starts with % x, not % x", ErrNotMZ, fixed[:n], Magic[:])
			}
			return h, fmt.Errorf("%w: the header is cut short", ErrTruncated)
		}
		return h, err
	}
	if [4]byte(fixed[:4]) != Magic {
		return h, fmt.Errorf("%w: it starts with % x, not % x", ErrNotMZ, fixed[:4], Magic[:])
	}
	h.Version = fixed[4]
	if h.Version < minVersion || h.Version > Version {
		return h, fmt.Errorf("%w %d: this mnistzip reads versions %d to %d (a newer mnistzip wrote it?)", ErrVersion, h.Version, minVersion, Version)
	}
	flags := fixed[5]
	if flags&^flagLossy != 0 {
		return h, fmt.Errorf("%w: unknown flags %#x", ErrCorrupt, flags)
	}
	h.Lossy = flags&flagLossy != 0
	h.Quality = int(fixed[6])
	rest := make([]byte, int(fixed[7])+2)
	if _, err := io.ReadFull(r, rest); err != nil {
		return h, fmt.Errorf("%w: the header is cut short", ErrTruncated)
	}
	h.ModelID = string(rest[:fixed[7]])
	if !isHexID(h.ModelID) {
		return h, fmt.Errorf("%w: the model id is not lowercase hex", ErrCorrupt)
	}
	idxLen := int(binary.BigEndian.Uint16(rest[fixed[7]:]))
	if idxLen < 4 || idxLen > 4+4*255 || idxLen%4 != 0 {
		return h, fmt.Errorf("%w: IDX header of %d bytes", ErrCorrupt, idxLen)
	}
	tail := make([]byte, idxLen+8+4+4)
	if _, err := io.ReadFull(r, tail); err != nil {
		return h, fmt.Errorf("%w: the header is cut short", ErrTruncated)
	}
	all := append(append(append([]byte(nil), fixed...), rest...), tail[:len(tail)-4]...)
	if crc32.Checksum(all, castagnoli) != binary.BigEndian.Uint32(tail[len(tail)-4:]) {
		return h, fmt.Errorf("%w: header", ErrChecksum)
	}
	if err := h.IDX.UnmarshalBinary(tail[:idxLen]); err != nil {
		return h, fmt.Errorf("%w: IDX header: %v", ErrCorrupt, err)
	}
	size := binary.BigEndian.Uint64(tail[idxLen:])
	if h.IDX.DataSize() < 0 || uint64(h.IDX.DataSize()) != size {
		return h, fmt.Errorf("%w: data size %d does not match the IDX header %s", ErrCorrupt, size, h.IDX)
	}
	if size == 0 {
		// Compressors refuse an IDX of no data (ErrEmpty), so no such .mz file is ever written.
		return h, fmt.Errorf("%w: %s holds no data (no mnistzip writes such a file)", ErrCorrupt, h.IDX)
	}
	h.Chunks = int(binary.BigEndian.Uint32(tail[idxLen+8:]))
	if want := chunkPlan(h.IDX).parts; int64(h.Chunks) != want {
		return h, fmt.Errorf("%w: %d chunks for %s, want %d", ErrCorrupt, h.Chunks, h.IDX, want)
	}
	if !h.Lossy && h.Quality != 0 {
		return h, fmt.Errorf("%w: quality %d in a lossless file", ErrCorrupt, h.Quality)
	}
	if h.Lossy && (!h.Images() || h.Quality < 1 || h.Quality > MaxQuality || h.ModelID == "") {
		return h, fmt.Errorf("%w: lossy header (quality %d, model %q) for %s", ErrCorrupt, h.Quality, h.ModelID, h.IDX)
	}
	return h, nil
}

// plan is how an IDX's data splits into chunks: images into near-equal runs of at most
// maxChunkImages, other data into runs of at most maxChunkBytes. It is arithmetic, not a list, so a
// header claiming terabytes costs nothing until chunks actually arrive.
type plan struct {
	items  int64 // images, or bytes
	parts  int64
	images bool
}

func chunkPlan(h idx.Header) plan {
	p := plan{images: isImages(h)}
	limit := int64(maxChunkBytes)
	if p.images {
		p.items, limit = int64(h.Dims[0]), int64(maxChunkImages)
	} else {
		p.items = h.DataSize()
	}
	p.parts = (p.items + limit - 1) / limit
	return p
}

// size is the item count of chunk i.
func (p plan) size(i int64) int {
	n := p.items / p.parts
	if i < p.items%p.parts {
		n++
	}
	return int(n)
}

// bytes is the raw size of chunk i.
func (p plan) bytes(i int64) int { return p.size(i) * p.itemBytes() }

// itemBytes is the size of one item.
func (p plan) itemBytes() int {
	if p.images {
		return imageSize
	}
	return 1
}

// isHexID reports whether id is lowercase hex (or empty), as weights ids are; anything else in a
// header would reach terminals in error messages.
func isHexID(id string) bool {
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(id) <= 255
}
