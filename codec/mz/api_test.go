package mz

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// TestOptions: options are checked where the Encoder or Decoder is made.
func TestOptions(t *testing.T) {
	m := quadrantAE{"aa01"}
	for name, c := range map[string]struct {
		opts []Option
		want error
	}{
		"quality 0":         {[]Option{WithLossy(0), WithModel(m)}, ErrOption},
		"quality 10":        {[]Option{WithLossy(MaxQuality + 1), WithModel(m)}, ErrOption},
		"concurrency 0":     {[]Option{WithConcurrency(0)}, ErrOption},
		"concurrency 17":    {[]Option{WithConcurrency(MaxConcurrency + 1)}, ErrOption},
		"nil model":         {[]Option{WithModel(nil)}, ErrOption},
		"nil loader":        {[]Option{WithModelLoader(nil)}, ErrOption},
		"lossy and hints":   {[]Option{WithLossy(5), WithAEHints(true), WithModel(m)}, ErrOption},
		"lossy, no model":   {[]Option{WithLossy(5)}, ErrNeedsModel},
		"hints, no model":   {[]Option{WithAEHints(true)}, ErrNeedsModel},
		"lossy with loader": {[]Option{WithLossy(5), WithModelLoader(func(string) (Autoencoder, error) { return m, nil })}, nil},
		"defaults":          {nil, nil},
	} {
		_, err := NewEncoder(c.opts...)
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("encoder, %s: %v, want %v", name, err, c.want)
		}
		if _, err := NewWriter(io.Discard, c.opts...); (c.want == nil) != (err == nil) {
			t.Errorf("writer, %s: %v, want %v", name, err, c.want)
		}
	}
	// A decoder ignores the encoder's options but checks its own.
	if _, err := NewDecoder(WithLossy(5)); err != nil {
		t.Errorf("decoder with an encoder option: %v", err)
	}
	if _, err := NewDecoder(WithConcurrency(-1)); !errors.Is(err, ErrOption) {
		t.Errorf("decoder, concurrency -1: %v", err)
	}
	// A model loader is called only when needed, with the id the file names.
	h, data, _ := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	lossy := compress(t, h, data, WithLossy(3), WithModel(m))
	plain := compress(t, h, data)
	var asked []string
	dec, _ := NewDecoder(WithModelLoader(func(id string) (Autoencoder, error) { asked = append(asked, id); return m, nil }))
	for _, f := range [][]byte{plain, lossy} {
		if _, err := dec.Decode(io.Discard, bytes.NewReader(f)); err != nil {
			t.Fatal(err)
		}
	}
	if len(asked) != 1 || asked[0] != "aa01" {
		t.Errorf("loader asked for %q, want only aa01", asked)
	}
	loaderErr := errors.New("no such weights")
	dec, _ = NewDecoder(WithModelLoader(func(string) (Autoencoder, error) { return nil, loaderErr }))
	if _, err := dec.Decode(io.Discard, bytes.NewReader(lossy)); err != loaderErr {
		t.Errorf("loader error: %v, want it unchanged", err)
	}
}

// TestReuse: one Encoder and one Decoder serve many files, at the same time too, with the bytes of
// fresh ones.
func TestReuse(t *testing.T) {
	enc, _ := NewEncoder()
	dec, _ := NewDecoder()
	files := []string{"train-1000-images-idx3-ubyte", "train-1000-labels-idx1-ubyte", "t10k-1000-images-idx3-ubyte", "t10k-1000-labels-idx1-ubyte"}
	var wg sync.WaitGroup
	for _, f := range files {
		h, data, raw := readIDX(t, "../../testdata/"+f)
		fresh := compress(t, h, data)
		for range 2 {
			wg.Go(func() {
				var packed, back bytes.Buffer
				if _, err := enc.Encode(&packed, bytes.NewReader(raw)); err != nil || !bytes.Equal(packed.Bytes(), fresh) {
					t.Errorf("%s: reused encoder: %v, or other bytes", f, err)
				}
				if _, err := dec.Decode(&back, bytes.NewReader(packed.Bytes())); err != nil || !bytes.Equal(back.Bytes(), raw) {
					t.Errorf("%s: reused decoder: %v", f, err)
				}
			})
		}
	}
	wg.Wait()
}

// oddWrites writes b to w in pieces of sizes 1, 2, 3, …
func oddWrites(w io.Writer, b []byte) error {
	for n := 1; len(b) > 0; n++ {
		k := min(n*n, len(b))
		if _, err := w.Write(b[:k]); err != nil {
			return err
		}
		b = b[k:]
	}
	return nil
}

// TestWriterReader: the streaming forms make and read the bytes Encode and Decode do, whatever the
// write and read sizes, and are reusable with Reset.
func TestWriterReader(t *testing.T) {
	withChunks(t, 300, 400)
	h, data, raw := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	lh, ldata, lraw := readIDX(t, "../../testdata/t10k-1000-labels-idx1-ubyte")
	want := compress(t, h, data)
	lwant := compress(t, lh, ldata)

	var out bytes.Buffer
	w, err := NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	if err := oddWrites(w, raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("Writer: %v, %d bytes (Encode makes %d)", err, out.Len(), len(want))
	}
	if st := w.Stats(); st.Out != int64(len(want)) || len(st.Chunks) != 4 || st.IDX.String() != h.String() {
		t.Errorf("Writer stats: %+v", st)
	}
	if _, err := w.Write([]byte{0}); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v", err)
	}
	// Reset, and a gzip-compressed input this time.
	var lout, gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(lraw)
	zw.Close()
	w.Reset(&lout)
	if err := oddWrites(w, gz.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil || !bytes.Equal(lout.Bytes(), lwant) || !w.Stats().Gzipped {
		t.Fatalf("Writer after Reset, gzip input: %v", err)
	}

	r, err := NewReader(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header().IDX.String() != h.String() {
		t.Errorf("Reader header %s", r.Header().IDX)
	}
	var back bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf)
		back.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(back.Bytes(), raw) {
		t.Fatal("Reader: the restored bytes differ")
	}
	if err := r.Reset(bytes.NewReader(lwant)); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || !bytes.Equal(b, lraw) {
		t.Fatalf("Reader after Reset: %v", err)
	}

	// Failures: a header that is not IDX reaches Write; an input cut short reaches Close; a
	// damaged .mz reaches Read before io.EOF.
	w.Reset(io.Discard)
	var werr error
	for range 10 {
		if _, werr = w.Write([]byte("hello, this is text\n")); werr != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !errors.Is(werr, ErrNotIDX) || !errors.Is(w.Close(), ErrNotIDX) {
		t.Errorf("text written: Write %v, Close %v", werr, w.Close())
	}
	w.Reset(io.Discard)
	w.Write(raw[:len(raw)-1])
	if err := w.Close(); !errors.Is(err, idx.ErrTruncatedData) {
		t.Errorf("input cut short: %v", err)
	}
	bad := bytes.Clone(want)
	bad[len(bad)-1] ^= 1
	r.Reset(bytes.NewReader(bad))
	if _, err := io.ReadAll(r); !errors.Is(err, ErrChecksum) {
		t.Errorf("damaged trailer: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe to watch from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) Len() int { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Len() }

// TestStreamsChunkByChunk: a Writer emits each chunk once its data has arrived, before the rest of
// the file does, and a Reader yields a chunk's bytes before the rest of the .mz file has arrived.
func TestStreamsChunkByChunk(t *testing.T) {
	withChunks(t, 100, 400)
	h, data, raw := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	packed := compress(t, h, data) // 10 chunks of 100 images
	head, frames, _ := split(t, packed)

	var out syncBuffer
	w, _ := NewWriter(&out, WithConcurrency(1))
	firstChunk := h.HeaderSize() + 100*imageSize
	w.Write(raw[:firstChunk+1]) // chunk 1, and a byte of chunk 2
	deadline := time.Now().Add(10 * time.Second)
	for out.Len() < len(head)+len(frames[0]) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := out.Len(); got != len(head)+len(frames[0]) {
		t.Errorf("after chunk 1's data: %d bytes out, want header and chunk 1 (%d)", got, len(head)+len(frames[0]))
	}
	w.Write(raw[firstChunk+1:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	pr, pw := io.Pipe()
	go pw.Write(append(bytes.Clone(head), frames[0]...)) // and then nothing, until closed
	r, err := NewReader(pr, WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, firstChunk)
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, raw[:firstChunk]) {
		t.Errorf("first chunk through a Reader: %v", err)
	}
	pw.Close()
	if _, err := io.ReadAll(r); !errors.Is(err, ErrTruncated) {
		t.Errorf("the rest missing: %v", err)
	}
}

// TestCoderTable: one entry per chunk kind, the ones format versions 1 (0…9) and 2 (10) define,
// each with both directions and a version; exactly one lossy coder.
func TestCoderTable(t *testing.T) {
	names := map[string]bool{}
	lossy := 0
	for i, c := range coders {
		if names[c.name] || c.encode == nil || c.decode == nil || coderByID[c.id] != &coders[i] || c.levels == 0 ||
			c.version != map[bool]byte{true: 1, false: 2}[c.id < 10] {
			t.Errorf("coder %d (%s) duplicated or incomplete", c.id, c.name)
		}
		names[c.name] = true
		if c.lossy {
			lossy++
		}
	}
	for kind := range 256 {
		if (coderByID[kind] != nil) != (kind <= 10) {
			t.Errorf("kind %d: coder %v, want one exactly for kinds 0…10", kind, coderByID[kind])
		}
	}
	if lossy != 1 || len(Coders()) != len(coders) || Coders()[0].Name != "stored" {
		t.Errorf("%d lossy coders; Coders() = %v", lossy, Coders())
	}
}

// TestFormatV1Unchanged: the bytes of version 1 files stay what they were (the coder table's order,
// the chunk plan, zstd's level and every coder decide them).
func TestFormatV1Unchanged(t *testing.T) {
	for _, c := range []struct {
		file string
		opts []Option
		size int
		sha  string
	}{
		{"train-1000-images-idx3-ubyte", nil, 135320, "93111efc0e89b8c8637ac50a61588939f91cc73d5dfb741a20dd561af5ac4616"},
		{"t10k-1000-labels-idx1-ubyte", nil, 509, "f19a55c1bdd4fd25461f73dfa1dfcf1f8ec3f54002030c0332b1cd9a9e81249a"},
		{"t10k-1000-images-idx3-ubyte", []Option{WithLossy(5), WithModel(quadrantAE{"aa01"})}, 602, "1a6f4abd2f3451b0a7adb31dc1fddf66904ca5e650693f9966d71beff67f2f2c"},
		{"t10k-1000-images-idx3-ubyte", []Option{WithAEHints(true), WithModel(quadrantAE{"cc03"})}, 131928, "f5137e4668fa90980fb90af6eec0a739f85c4890ae2c7ea742c362334e903ce6"},
	} {
		h, data, _ := readIDX(t, "../../testdata/"+c.file)
		packed := compress(t, h, data, append([]Option{WithLevel(LevelFast)}, c.opts...)...)
		if sum := sha256Hex(packed); len(packed) != c.size || sum != c.sha {
			t.Errorf("%s: %d bytes, SHA-256 %s; version 1 made %d bytes, %s", c.file, len(packed), sum, c.size, c.sha)
		}
		if packed[4] != 1 {
			t.Errorf("%s at LevelFast: format version %d", c.file, packed[4])
		}
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestGoldenFiles: the committed files of both format versions (the first 1,000 test digits,
// testdata/golden-v1.mz at LevelFast and golden-v2.mz at LevelBest) decode byte-exact, and today's
// encoder still writes them byte for byte. wasm/api_test.mjs decodes the same files under js/wasm.
func TestGoldenFiles(t *testing.T) {
	h, data, raw := readIDX(t, "../../testdata/t10k-1000-images-idx3-ubyte")
	for _, c := range []struct {
		file    string
		level   Level
		version byte
	}{{"golden-v1.mz", LevelFast, 1}, {"golden-v2.mz", LevelBest, 2}} {
		golden, err := os.ReadFile("../../testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		if golden[4] != c.version {
			t.Errorf("%s: format version %d, want %d", c.file, golden[4], c.version)
		}
		back, err := decompress(golden, nil)
		if err != nil || !bytes.Equal(back, raw) {
			t.Errorf("%s: does not decode to the test digits: %v", c.file, err)
		}
		if packed := compress(t, h, data, WithLevel(c.level)); !bytes.Equal(packed, golden) {
			t.Errorf("%s: the %s encoder now writes %d bytes (SHA-256 %s), not the golden %d", c.file, c.level, len(packed), sha256Hex(packed), len(golden))
		}
	}
}
