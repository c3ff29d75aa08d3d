package mz

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// frameOf is a chunk frame with a correct CRC around any payload.
func frameOf(kind byte, items int, payload []byte) []byte {
	f := []byte{kind}
	f = binary.BigEndian.AppendUint32(f, uint32(items))
	f = binary.BigEndian.AppendUint32(f, uint32(len(payload)))
	crc := crc32.Update(crc32.Checksum(f, castagnoli), castagnoli, payload)
	return binary.BigEndian.AppendUint32(append(f, payload...), crc)
}

// split cuts a .mz file into its header, chunk frames and trailer.
func split(t *testing.T, packed []byte) (head []byte, frames [][]byte, trailer []byte) {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := h.marshal()
	rest := packed[len(m):]
	for range h.Chunks {
		n := 13 + int(binary.BigEndian.Uint32(rest[5:]))
		frames = append(frames, rest[:n])
		rest = rest[n:]
	}
	return m, frames, rest
}

func join(head []byte, frames [][]byte, trailer []byte) []byte {
	out := bytes.Clone(head)
	for _, f := range frames {
		out = append(out, f...)
	}
	return append(out, trailer...)
}

// TestZstdErrorIsCorrupt: a zstd chunk whose payload passes its CRC but is no zstd frame is a corrupt
// .mz file (it used to come back as zstd's own error, matching none of the package's).
func TestZstdErrorIsCorrupt(t *testing.T) {
	h := Header{Version: Version, IDX: idx.Header{Type: idx.Int16, Dims: []int{50}}, Chunks: 1}
	head, err := h.marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{
		"garbage":    []byte("not a zstd frame, whatever its CRC says"),
		"zstd magic": {0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		file := append(append(bytes.Clone(head), frameOf(1, 100, payload)...), make([]byte, sha256.Size)...)
		_, err := decompress(file, nil)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "chunk 1 of 1: zstd") {
			t.Errorf("%s: %v, want ErrCorrupt naming chunk 1 of 1 and zstd", name, err)
		}
	}
}

// failingAE fails its encoder's call number failAt (counting from 1).
type failingAE struct {
	quadrantAE
	failAt int64
	calls  *atomic.Int64
}

func (f failingAE) Encode(images []float32, n int) ([]float32, error) {
	if f.calls.Add(1) == f.failAt {
		return nil, errors.New("the model broke")
	}
	return f.quadrantAE.Encode(images, n)
}

// TestChunkNumbering: every error about a chunk numbers it from 1, "chunk 2 of 3", compressing and
// decompressing (decoding errors used to count from 0, frame errors from 1).
func TestChunkNumbering(t *testing.T) {
	withChunks(t, 40, 400)
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	h.Dims[0] = 120 // 3 chunks of 40 images
	data = data[:120*imageSize]
	packed := compress(t, h, data)
	head, frames, trailer := split(t, packed)

	// Chunk 2's payload cut in half, with a CRC that passes: a decoding error.
	bad := bytes.Clone(frames[1])
	payload := bad[9 : len(bad)-4]
	frames2 := [][]byte{frames[0], frameOf(bad[0], 40, payload[:len(payload)/2]), frames[2]}
	for name, c := range map[string]struct {
		file []byte
		want string
	}{
		"undecodable chunk 2": {join(head, frames2, trailer), "chunk 2 of 3: "},
		"CRC of chunk 1":      {join(head, [][]byte{append(bytes.Clone(frames[0][:len(frames[0])-1]), frames[0][len(frames[0])-1]^1), frames[1], frames[2]}, trailer), "checksum mismatch: chunk 1 of 3"},
		"chunk 3 missing":     {join(head, frames[:2], nil), "chunk 3 of 3 is missing"},
		"chunk 3 cut":         {join(head, [][]byte{frames[0], frames[1], frames[2][:20]}, nil), "chunk 3 of 3 is cut short"},
		"kind of chunk 2":     {join(head, [][]byte{frames[0], frameOf(200, 40, nil), frames[2]}, trailer), "chunk 2 of 3 has unknown kind 200"},
	} {
		_, err := decompress(c.file, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}

	// The model failing on the second chunk (hints call the encoder once per chunk of 40 images).
	var calls atomic.Int64
	m := failingAE{quadrantAE{"ab12"}, 2, &calls}
	_, err := tryCompress(h, data, WithAEHints(true), WithModel(m), WithConcurrency(1))
	if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), "chunk 2 of 3") {
		t.Errorf("model failing on chunk 2: %v", err)
	}
}

// TestTrailingData: decompression and inspection refuse bytes after the final checksum (a second
// .mz file, cat a.mz b.mz) with the same error; info used to accept what decompress refused.
func TestTrailingData(t *testing.T) {
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-labels-idx1-ubyte")
	packed := compress(t, h, data)
	for name, file := range map[string][]byte{
		"two files":  append(bytes.Clone(packed), packed...),
		"one byte":   append(bytes.Clone(packed), 0),
		"a newline":  append(bytes.Clone(packed), '\n'),
		"gzip after": append(bytes.Clone(packed), 0x1f, 0x8b),
	} {
		_, derr := decompress(file, nil)
		_, _, _, ierr := Inspect(bytes.NewReader(file))
		if !errors.Is(derr, ErrCorrupt) || !errors.Is(ierr, ErrCorrupt) || derr.Error() != ierr.Error() {
			t.Errorf("%s: decompress says %v; inspect says %v; want the same ErrCorrupt", name, derr, ierr)
		}
	}
	if _, _, _, err := Inspect(bytes.NewReader(packed)); err != nil {
		t.Errorf("inspect of the file alone: %v", err)
	}
}

// TestNoData: a .mz header of an IDX with no data (which compress refuses to make) is refused as
// corrupt by decompression and inspection; it used to decompress.
func TestNoData(t *testing.T) {
	for _, dims := range [][]int{{0, 28, 28}, {0}, {5, 0}} {
		h := Header{Version: Version, IDX: idx.Header{Type: idx.Ubyte, Dims: dims}}
		head, err := h.marshal()
		if err != nil {
			t.Fatal(err)
		}
		idxHead, _ := h.IDX.MarshalBinary()
		sum := sha256.Sum256(idxHead)
		file := append(head, sum[:]...)
		_, derr := decompress(file, nil)
		_, _, _, ierr := Inspect(bytes.NewReader(file))
		if !errors.Is(derr, ErrCorrupt) || !errors.Is(ierr, ErrCorrupt) {
			t.Errorf("%s: decompress %v, inspect %v; want ErrCorrupt", h.IDX, derr, ierr)
		}
		if _, err := tryCompress(h.IDX, nil); !errors.Is(err, ErrEmpty) {
			t.Errorf("compress %s: %v, want ErrEmpty", h.IDX, err)
		}
	}
}

// TestInputErrors: a bad IDX input is ErrNotIDX wrapping what codec/idx says, before anything is
// written; an input too large for the chunk count is ErrTooLarge, at once.
func TestInputErrors(t *testing.T) {
	enc, _ := NewEncoder()
	full := idxBytes(idx.Header{Type: idx.Ubyte, Dims: []int{100}}, make([]byte, 100))
	for name, c := range map[string]struct {
		in   []byte
		want error
	}{
		"text":           {[]byte("hello, world"), idx.ErrBadMagic},
		"empty":          {nil, idx.ErrTruncatedHeader},
		"truncated data": {full[:50], idx.ErrTruncatedData},
		"trailing data":  {append(bytes.Clone(full), 1), idx.ErrTrailingData},
		"bad gzip":       {[]byte{0x1f, 0x8b, 8, 0, 0, 0}, idx.ErrGzip},
	} {
		var out bytes.Buffer
		_, err := enc.Encode(&out, bytes.NewReader(c.in))
		if !errors.Is(err, ErrNotIDX) || !errors.Is(err, c.want) || strings.Count(err.Error(), "mz:") != 1 {
			t.Errorf("%s: %v, want ErrNotIDX and %v", name, err, c.want)
		}
		if c.want != idx.ErrTruncatedData && c.want != idx.ErrTrailingData && out.Len() > 0 {
			t.Errorf("%s: %d bytes written before the header was refused", name, out.Len())
		}
	}
	huge := idx.Header{Type: idx.Ubyte, Dims: []int{math.MaxUint32, 1 << 31}}
	if _, err := enc.Encode(&bytes.Buffer{}, headerThenZeros(t, huge, 1<<40)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%s: %v, want ErrTooLarge", huge, err)
	}
}

// TestErrorPrefixes: every sentinel says it comes from this package.
func TestErrorPrefixes(t *testing.T) {
	for _, e := range []error{ErrNotMZ, ErrVersion, ErrCorrupt, ErrTruncated, ErrChecksum, ErrNotIDX, ErrEmpty, ErrTooLarge,
		ErrNotImages, ErrNeedsModel, ErrWrongModel, ErrModel, ErrOption, ErrClosed, ErrNotReproduced} {
		if !strings.HasPrefix(e.Error(), "mz: ") {
			t.Errorf("%q does not start with \"mz: \"", e)
		}
	}
}
