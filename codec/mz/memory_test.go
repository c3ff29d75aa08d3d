package mz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/mnistzip/mnistzip/codec/cm"
	"github.com/mnistzip/mnistzip/codec/idx"
)

func encodeAll(enc *Encoder, h idx.Header, data []byte) ([]byte, error) {
	head, _ := h.MarshalBinary()
	var out bytes.Buffer
	_, err := enc.Encode(&out, bytes.NewReader(append(head, data...)))
	return out.Bytes(), err
}

// peakHeap runs f and returns the largest heap in use while it ran above what was in use before,
// sampled every few milliseconds (garbage not yet collected counts: it is memory the process holds).
func peakHeap(f func()) (peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var max atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if max.Load() < base {
		return 0
	}
	return max.Load() - base
}

// zeros is an endless stream of zero bytes, counting what was read.
type zeros struct{ n atomic.Int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n.Add(int64(len(p)))
	return len(p), nil
}

// limitedZeros is a header followed by n zero bytes.
func headerThenZeros(t testing.TB, h idx.Header, n int64) io.Reader {
	head, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return io.MultiReader(bytes.NewReader(head), io.LimitReader(&zeros{}, n))
}

// gzipped is the gzip stream of r, made in memory (zeros compress about 1000:1).
func gzipped(t testing.TB, r io.Reader) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := io.Copy(zw, r); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

const MiB = 1 << 20

// TestEndlessInput: compressing an endless stream of zeros (mnistzip compress /dev/zero) fails at
// once on its header (type code 0), having read no more than a buffer of it.
func TestEndlessInput(t *testing.T) {
	enc, err := NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	var z zeros
	start := time.Now()
	_, err = enc.Encode(io.Discard, &z)
	if !errors.Is(err, ErrNotIDX) || !errors.Is(err, idx.ErrUnknownType) {
		t.Errorf("endless zeros: %v, want ErrNotIDX (unknown type)", err)
	}
	if z.n.Load() > MiB || time.Since(start) > 5*time.Second {
		t.Errorf("read %d bytes in %s before failing", z.n.Load(), time.Since(start))
	}
}

// TestBoundedMemory: whatever an input's header claims, compression holds a few chunks at a time.
// A gzip stream (a few hundred KB) whose header claims 65536 × 65536 bytes (4 GiB) is coded chunk by
// chunk until its data runs out, and decoders of a .mz header claiming 2^32 − 1 images allocate
// nothing of the claim.
func TestBoundedMemory(t *testing.T) {
	huge := idx.Header{Type: idx.Ubyte, Dims: []int{65536, 65536}}
	const fed = 160 * MiB // 20 chunks of 8 MiB, at most 4 in flight
	gz := gzipped(t, headerThenZeros(t, huge, fed))
	enc, err := NewEncoder(WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	var st Stats
	peak := peakHeap(func() { st, err = enc.Encode(io.Discard, bytes.NewReader(gz)) })
	if !errors.Is(err, ErrNotIDX) || !errors.Is(err, idx.ErrTruncatedData) {
		t.Errorf("4 GiB claimed, %d MiB given: %v, want truncated data", fed/MiB, err)
	}
	t.Logf("gzip of %d bytes claiming %s, %d MiB of data: peak heap %.1f MiB, %d chunks coded", len(gz), huge, fed/MiB, float64(peak)/MiB, len(st.Chunks))
	if peak > 256*MiB {
		t.Errorf("peak heap %.0f MiB compressing a stream of %d MiB, want < 256 MiB", float64(peak)/MiB, fed/MiB)
	}
	if len(st.Chunks) != fed/maxChunkBytesDefault {
		t.Errorf("%d chunks coded before the data ran out, want %d", len(st.Chunks), fed/maxChunkBytesDefault)
	}

	// The same raw (not gzip), as `compress` reads it from a pipe.
	peak = peakHeap(func() { _, err = enc.Encode(io.Discard, headerThenZeros(t, huge, 48*MiB)) })
	if !errors.Is(err, idx.ErrTruncatedData) || peak > 256*MiB {
		t.Errorf("raw stream: %v, peak heap %.0f MiB", err, float64(peak)/MiB)
	}

	// A .mz header claiming 2^32 − 1 images (3.4 TB), then nothing: refused at the first missing
	// chunk by Decode, NewReader and Inspect, allocating almost nothing.
	claim := Header{Version: Version, IDX: idx.Header{Type: idx.Ubyte, Dims: []int{math.MaxUint32, 28, 28}}}
	claim.Chunks = int(chunkPlan(claim.IDX).parts)
	head, err := claim.marshal()
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewDecoder()
	for name, f := range map[string]func() error{
		"Decode":  func() error { _, err := dec.Decode(io.Discard, bytes.NewReader(head)); return err },
		"Inspect": func() error { _, _, _, err := Inspect(bytes.NewReader(head)); return err },
		"Reader": func() error {
			r, err := NewReader(bytes.NewReader(head))
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			return err
		},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := f()
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s of a header claiming %s: %v", name, claim.IDX, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > MiB {
			t.Errorf("%s allocated %d bytes for a header claiming %s", name, alloc, claim.IDX)
		}
	}
}

// TestBoundedMemoryCM: with 4 chunks in flight, at most maxCMCoders context-mixing models are
// held at once, each the size codec/cm states, both ways. (The chunks are of 1,000 images, which
// take full-size models: chunks of 30,000 would take minutes.)
func TestBoundedMemoryCM(t *testing.T) {
	if testing.Short() {
		t.Skip("codes 4,000 images by context mixing, twice")
	}
	withChunks(t, 1000, maxChunkBytesDefault)
	h, data, _ := readIDX(t, "../../testdata/train-1000-images-idx3-ubyte")
	h.Dims[0] = 4000
	var all []byte
	for k := range 4 { // four different chunks, so that zstd does not find them repeated
		for i := range data {
			all = append(all, data[(i+k*imageSize*250)%len(data)]^byte(k&1))
		}
	}
	model := float64(cm.TableBytes(1000))
	enc, _ := NewEncoder(WithConcurrency(4))
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	var packed []byte
	var err error
	peak := peakHeap(func() { packed, err = encodeAll(enc, h, all) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compressing 4 chunks of 1,000 images: peak heap %.1f MiB (GOGC 10); one model %.1f MiB", float64(peak)/MiB, model/MiB)
	// Besides the models: two zstd encoders (about 50 MB each) and the chunks' buffers (145 MiB
	// measured); a third model would fail either bound.
	if float64(peak) > maxCMCoders*model+200*MiB {
		t.Errorf("peak heap %.0f MiB, want under %d models + 200 MiB", float64(peak)/MiB, maxCMCoders)
	}
	var n countingWriter
	dec, _ := NewDecoder(WithConcurrency(4))
	peak = peakHeap(func() { _, err = dec.Decode(&n, bytes.NewReader(packed)) })
	t.Logf("decompressing them: peak heap %.1f MiB (GOGC 10)", float64(peak)/MiB)
	if err != nil || int(n) != 16+len(all) {
		t.Fatalf("decompress: %v, %d bytes", err, n)
	}
	if float64(peak) > maxCMCoders*model+80*MiB {
		t.Errorf("decompressing: peak heap %.0f MiB, want under %d models + 80 MiB", float64(peak)/MiB, maxCMCoders)
	}
}

// TestBoundedMemoryImages measures the costliest chunks, 30,000 images each, 4 in flight, both
// ways: the bounds the package documentation states. It takes a while (four image chunks through
// every coder).
func TestBoundedMemoryImages(t *testing.T) {
	if testing.Short() {
		t.Skip("codes 120,000 images")
	}
	raw, err := os.ReadFile("../../testdata/train-1000-images-idx3-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	const images = 4 * maxChunkImagesDefault
	h := idx.Header{Type: idx.Ubyte, Dims: []int{images, 28, 28}}
	head, _ := h.MarshalBinary()
	src := io.MultiReader(bytes.NewReader(head), io.LimitReader(&cycle{b: raw[16:]}, images*imageSize))
	enc, _ := NewEncoder(WithConcurrency(4), WithLevel(LevelFast)) // LevelBest: TestBoundedMemoryCM
	var packed bytes.Buffer
	var st Stats
	start := time.Now()
	// The bound is on the data the coders keep alive, so the collector runs often here (GOGC 10):
	// at the default GOGC 100 the heap in use also holds up to about as much again of garbage, and
	// how much depends on how busy the machine is (567–664 MiB measured, the higher under the load
	// of the whole `go test ./...`), which made a bound on it flaky.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	peak := peakHeap(func() { st, err = enc.Encode(&packed, src) })
	if err != nil || len(st.Chunks) != 4 {
		t.Fatalf("%s: %v after %d chunks", h, err, len(st.Chunks))
	}
	t.Logf("compressing 4 chunks of 30,000 images in %s: peak heap %.1f MiB (GOGC 10)", time.Since(start).Round(time.Millisecond), float64(peak)/MiB)
	if peak > 448*MiB {
		t.Errorf("peak heap %.0f MiB compressing 4 image chunks, want < 448 MiB", float64(peak)/MiB)
	}
	dec, _ := NewDecoder(WithConcurrency(4))
	var n countingWriter
	peak = peakHeap(func() { _, err = dec.Decode(&n, bytes.NewReader(packed.Bytes())) })
	t.Logf("decompressing them: peak heap %.1f MiB (GOGC 10)", float64(peak)/MiB)
	if err != nil || int64(n) != st.In {
		t.Fatalf("decompress: %v, %d bytes of %d", err, n, st.In)
	}
	if peak > 160*MiB {
		t.Errorf("peak heap %.0f MiB decompressing 4 image chunks, want < 160 MiB", float64(peak)/MiB)
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// cycle repeats b endlessly.
type cycle struct {
	b   []byte
	off int
}

func (c *cycle) Read(p []byte) (int, error) {
	n := copy(p, c.b[c.off:])
	c.off = (c.off + n) % len(c.b)
	return n, nil
}

// TestHugeFrameClaim: a chunk frame that claims the largest payload a chunk may have (48 MB for 30,000
// images) and then ends costs a MiB, not the claim.
func TestHugeFrameClaim(t *testing.T) {
	h := Header{Version: Version, IDX: idx.Header{Type: idx.Ubyte, Dims: []int{maxChunkImagesDefault, 28, 28}}, Chunks: 1}
	head, _ := h.marshal()
	frame := []byte{2}
	frame = binary.BigEndian.AppendUint32(frame, maxChunkImagesDefault)
	frame = binary.BigEndian.AppendUint32(frame, uint32(maxPayload(maxChunkImagesDefault*imageSize)))
	file := append(append(head, frame...), "and then only this"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := plainDecoder.Decode(io.Discard, bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("frame claiming %d bytes: %v", maxPayload(maxChunkImagesDefault*imageSize), err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2*MiB {
		t.Errorf("allocated %d bytes for a frame claiming %d", alloc, maxPayload(maxChunkImagesDefault*imageSize))
	}
}
