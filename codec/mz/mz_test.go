package mz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// quadrantAE is a deterministic stand-in autoencoder: the code is the mean of each 14×14 quadrant,
// the reconstruction paints each quadrant with its mean.
type quadrantAE struct{ id string }

func (q quadrantAE) ID() string    { return q.id }
func (q quadrantAE) CodeSize() int { return 4 }
func (q quadrantAE) Encode(images []float32, n int) ([]float32, error) {
	out := make([]float32, n*4)
	for i := range n {
		for p := range imageSize {
			r, c := p/28, p%28
			out[i*4+(r/14)*2+c/14] += images[i*imageSize+p] * 32 / 196 // codes in [0, 32]
		}
	}
	return out, nil
}
func (q quadrantAE) Decode(codes []float32, n int) ([]float32, error) {
	out := make([]float32, n*imageSize)
	for i := range n {
		for p := range imageSize {
			r, c := p/28, p%28
			out[i*imageSize+p] = max(0, min(1, codes[i*4+(r/14)*2+c/14]/32))
		}
	}
	return out, nil
}

func readIDX(t *testing.T, path string) (idx.Header, []byte, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, data, err := idx.ReadAll(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return *h, data, raw
}

// idxBytes is the IDX file of (h, data).
func idxBytes(h idx.Header, data []byte) []byte {
	head, err := h.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return append(head, data...)
}

// tryCompress compresses the IDX file (h, data) with a new Encoder.
func tryCompress(h idx.Header, data []byte, opts ...Option) ([]byte, error) {
	enc, err := NewEncoder(opts...)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = enc.Encode(&buf, bytes.NewReader(idxBytes(h, data)))
	return buf.Bytes(), err
}

func compress(t *testing.T, h idx.Header, data []byte, opts ...Option) []byte {
	t.Helper()
	b, err := tryCompress(h, data, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainDecoder decodes the files that need no model (one for all: it is reusable).
var plainDecoder, _ = NewDecoder()

func decompress(packed []byte, m Autoencoder) ([]byte, error) {
	dec := plainDecoder
	if m != nil {
		var err error
		if dec, err = NewDecoder(WithModel(m)); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	_, err := dec.Decode(&out, bytes.NewReader(packed))
	return out.Bytes(), err
}

func zstdBest(t *testing.T, raw []byte) int {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	return len(enc.EncodeAll(raw, nil))
}

func withChunks(t *testing.T, images, bytes int) {
	mi, mb := maxChunkImages, maxChunkBytes
	maxChunkImages, maxChunkBytes = images, bytes
	t.Cleanup(func() { maxChunkImages, maxChunkBytes = mi, mb })
}

// TestMNISTRoundTrips: the four MNIST test files (the first 1,000 items of each) come back byte-exact,
// in several chunks, and the images come out well below zstd's size.
func TestMNISTRoundTrips(t *testing.T) {
	withChunks(t, 500, 400) // 2 image chunks, 3 label chunks
	for _, f := range []string{"train-1000-images-idx3-ubyte", "train-1000-labels-idx1-ubyte", "t10k-1000-images-idx3-ubyte", "t10k-1000-labels-idx1-ubyte"} {
		h, data, raw := readIDX(t, "../../testdata/"+f)
		for _, m := range []Autoencoder{nil, quadrantAE{"cc03"}} {
			var opts []Option
			if m != nil {
				opts = []Option{WithAEHints(true), WithModel(m)}
			}
			packed := compress(t, h, data, opts...)
			back, err := decompress(packed, m)
			if err != nil || !bytes.Equal(back, raw) {
				t.Fatalf("%s (hints %v): round trip failed: %v", f, m != nil, err)
			}
			z := zstdBest(t, raw)
			t.Logf("%s hints %v: %d bytes, zstd best %d", f, m != nil, len(packed), z)
			if len(packed) > z+z/100+100 {
				t.Errorf("%s: %d bytes, more than zstd's %d + 1%% + 100", f, len(packed), z)
			}
		}
		if isImages(h) {
			// In one chunk, as files up to 30,000 images are, the pixel model wins by 10% or more.
			maxChunkImages = maxChunkImagesDefault
			if packed, z := compress(t, h, data), zstdBest(t, raw); len(packed) > z*9/10 {
				t.Errorf("%s: %d bytes, not even 10%% below zstd's %d", f, len(packed), z)
			}
			maxChunkImages = 500
		}
	}
}

// TestGeneratedRoundTrips: IDX files of every type and other shapes use the general coders, come
// back exactly, and are never more than 1% + 100 bytes larger than zstd at its best level.
func TestGeneratedRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		typ  idx.Type
		dims []int
	}{
		{idx.Ubyte, []int{50, 28, 28}}, {idx.Ubyte, []int{7, 32, 32}}, {idx.Sbyte, []int{1000}}, {idx.Int16, []int{300, 3}},
		{idx.Int32, []int{20, 2, 2}}, {idx.Float32, []int{64, 9}}, {idx.Float64, []int{5}}, {idx.Ubyte, nil},
	} {
		h := idx.Header{Type: c.typ, Dims: c.dims}
		data := make([]byte, h.DataSize())
		for i := range data {
			data[i] = byte(r.IntN(4) * r.IntN(64)) // some redundancy for the coders
		}
		raw, _ := h.MarshalBinary()
		raw = append(raw, data...)
		packed := compress(t, h, data)
		back, err := decompress(packed, nil)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("%s: round trip failed: %v", h, err)
		}
		if z := zstdBest(t, raw); len(packed) > z+z/100+100 {
			t.Errorf("%s: %d bytes, more than zstd's %d + 1%% + 100", h, len(packed), z)
		}
		// In chunks of 100 bytes too.
		withChunks(t, 3, 100)
		packed = compress(t, h, data)
		if back, err := decompress(packed, nil); err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("%s in small chunks: round trip failed: %v", h, err)
		}
		maxChunkImages, maxChunkBytes = maxChunkImagesDefault, maxChunkBytesDefault
	}
}

// TestLossy: a lossy file restores the model's reconstructions of the quantized codes, names its
// model, is refused with another model or none, and is far smaller than the lossless file.
func TestLossy(t *testing.T) {
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	m := quadrantAE{"aa01"}
	packed := compress(t, h, data, WithLossy(9), WithModel(m))
	back, err := decompress(packed, m)
	if err != nil {
		t.Fatal(err)
	}
	codes, _ := m.Encode(toFloats(data), 1000)
	recon, _ := m.Decode(dequantize(quantize(codes, quantStep(9)), quantStep(9)), 1000)
	head, _ := h.MarshalBinary()
	if !bytes.Equal(back, append(head, toBytes(recon)...)) {
		t.Error("lossy decompression is not the model's reconstruction")
	}
	if lossless := compress(t, h, data); len(packed)*10 > len(lossless) {
		t.Errorf("lossy %d bytes against lossless %d", len(packed), len(lossless))
	}
	if _, err := decompress(packed, quadrantAE{"bb02"}); !errors.Is(err, ErrWrongModel) {
		t.Errorf("another model: %v", err)
	}
	if _, err := decompress(packed, nil); !errors.Is(err, ErrNeedsModel) {
		t.Errorf("no model: %v", err)
	}
	if _, err := tryCompress(idx.Header{Type: idx.Ubyte, Dims: []int{10}}, make([]byte, 10), WithLossy(DefaultQuality), WithModel(m)); !errors.Is(err, ErrNotImages) {
		t.Errorf("lossy labels: %v", err)
	}
	if _, err := tryCompress(h, data, WithLossy(10), WithModel(m)); !errors.Is(err, ErrOption) {
		t.Errorf("quality 10: %v", err)
	}
}

// TestBadFiles: every kind of damage gives an error of the package's kinds; none panics.
func TestBadFiles(t *testing.T) {
	withChunks(t, 40, 400)
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	h.Dims[0] = 120 // 3 chunks of 40 images
	data = data[:120*imageSize]
	isOurs := func(err error) bool {
		for _, e := range []error{ErrNotMZ, ErrVersion, ErrCorrupt, ErrTruncated, ErrChecksum} {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
	// Version 2 (context mixing) at some cuts and flips: each decode of its chunks takes tens of
	// milliseconds, so the exhaustive scan below is of the fast level's file (the frames, CRCs
	// and trailer it checks are the same).
	best := compress(t, h, data)
	if best[4] != 2 {
		t.Fatalf("LevelBest wrote format version %d", best[4])
	}
	for i := 0; i < len(best); i += 997 {
		if _, err := decompress(best[:i], nil); !isOurs(err) {
			t.Fatalf("version 2 cut at %d of %d: %v", i, len(best), err)
		}
		bad := bytes.Clone(best)
		bad[i] ^= 1 << (i % 8)
		if _, err := decompress(bad, nil); !isOurs(err) {
			t.Fatalf("version 2, bit flipped in byte %d: %v", i, err)
		}
	}
	hdr, err := ReadHeader(bytes.NewReader(best))
	if err != nil {
		t.Fatal(err)
	}
	head2, _ := hdr.marshal()
	hdr.Version = 1 // a context-mixing chunk in a version 1 file, its header's CRC right
	head1, _ := hdr.marshal()
	v1 := append(head1, best[len(head2):]...)
	if _, err := decompress(v1, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("kind 10 in a version 1 file: %v", err)
	}
	packed := compress(t, h, data, WithLevel(LevelFast))
	// Truncation anywhere, at every chunk boundary in particular.
	for cut := range len(packed) {
		if _, err := decompress(packed[:cut], nil); !isOurs(err) {
			t.Fatalf("cut at %d of %d: %v", cut, len(packed), err)
		}
	}
	// A flipped bit anywhere.
	for i := range len(packed) {
		bad := bytes.Clone(packed)
		bad[i] ^= 1 << (i % 8)
		if _, err := decompress(bad, nil); !isOurs(err) {
			t.Fatalf("bit flipped in byte %d: %v", i, err)
		}
	}
	if _, err := decompress(append(bytes.Clone(packed), 0), nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
	if _, err := decompress([]byte("PK\x03\x04 not mz at all"), nil); !errors.Is(err, ErrNotMZ) {
		t.Errorf("wrong magic: %v", err)
	}
	future := bytes.Clone(packed)
	future[4] = Version + 1
	if _, err := decompress(future, nil); !errors.Is(err, ErrVersion) {
		t.Errorf("future version: %v", err)
	}
	// A well-formed header claiming 2^32−1 images of 28×28 (3.4 TB): refused at the first missing
	// chunk without allocating the claim.
	huge := Header{Version: Version, IDX: idx.Header{Type: idx.Ubyte, Dims: []int{1<<32 - 1, 28, 28}}}
	huge.Chunks = int(chunkPlan(huge.IDX).parts)
	head, err := huge.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decompress(head, nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("absurd size: %v", err)
	}
	// A chunk frame claiming a huge payload is refused before reading it.
	frame := []byte{2} // pixels
	frame = binary.BigEndian.AppendUint32(frame, 40)
	frame = binary.BigEndian.AppendUint32(frame, 1<<31)
	smallHead := Header{Version: Version, IDX: idx.Header{Type: idx.Ubyte, Dims: []int{40, 28, 28}}, Chunks: 1}
	head, _ = smallHead.marshal()
	if _, err := decompress(append(head, frame...), nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("huge chunk: %v", err)
	}
	// A header whose CRC is right but whose chunk count is wrong.
	wrong := bytes.Clone(packed[:len(head)])
	binary.BigEndian.PutUint32(wrong[len(wrong)-8:], 99)
	binary.BigEndian.PutUint32(wrong[len(wrong)-4:], crc32.Checksum(wrong[:len(wrong)-4], castagnoli))
	if _, err := decompress(append(wrong, packed[len(head):]...), nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong chunk count: %v", err)
	}
	// Nothing to compress.
	if _, err := tryCompress(idx.Header{Type: idx.Ubyte, Dims: []int{0, 28, 28}}, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty IDX: %v", err)
	}
}

func FuzzDecompress(f *testing.F) {
	mi, mb := maxChunkImages, maxChunkBytes
	maxChunkImages, maxChunkBytes = 4, 64
	defer func() { maxChunkImages, maxChunkBytes = mi, mb }()
	raw, err := os.ReadFile("../../testdata/t10k-1000-images-idx3-ubyte")
	if err != nil {
		f.Fatal(err)
	}
	h := idx.Header{Type: idx.Ubyte, Dims: []int{8, 28, 28}}
	for _, c := range []struct {
		h    idx.Header
		data []byte
	}{{h, raw[16 : 16+8*imageSize]}, {idx.Header{Type: idx.Int16, Dims: []int{50}}, make([]byte, 100)}} {
		packed, err := tryCompress(c.h, c.data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(packed)
	}
	dec, err := NewDecoder()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		_, _ = dec.Decode(&out, bytes.NewReader(data))
		_, _, _, _ = Inspect(bytes.NewReader(data))
		if r, err := NewReader(bytes.NewReader(data)); err == nil {
			_, _ = io.Copy(io.Discard, r)
		}
	})
}

// roundedAE is quadrantAE under the same id on a machine whose arithmetic rounds differently: one
// pixel of the first reconstruction comes out one level brighter.
type roundedAE struct{ quadrantAE }

func (r roundedAE) Decode(codes []float32, n int) ([]float32, error) {
	out, err := r.quadrantAE.Decode(codes, n)
	if err == nil && n > 0 {
		out[14*28+14] = min(1, out[14*28+14]+1.0/255)
	}
	return out, err
}

// TestLossyNotPromisedElsewhere pins what SPEC.md's guarantees say of lossy files: they decode to
// the compressor's reconstruction where the model computes the same; where it rounds differently
// the checksum refuses the file rather than handing out other bytes.
func TestLossyNotPromisedElsewhere(t *testing.T) {
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	packed := compress(t, h, data, WithLossy(9), WithModel(quadrantAE{"aa01"}))
	if _, err := decompress(packed, roundedAE{quadrantAE{"aa01"}}); !errors.Is(err, ErrChecksum) {
		t.Errorf("a reconstruction one level off in one pixel: %v, want %v", err, ErrChecksum)
	}
}
