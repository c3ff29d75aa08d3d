package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/graphs/models/shipped"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func run(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = runMain(args, &o, &e)
	return code, o.String(), e.String()
}

// subset writes the first n test digits as a raw IDX file in dir.
func subset(t *testing.T, dir string, n int) (string, []byte) {
	t.Helper()
	raw, err := os.ReadFile("../testdata/t10k-1000-images-idx3-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	h := idx.Header{Type: idx.Ubyte, Dims: []int{n, 28, 28}}
	head, _ := h.MarshalBinary()
	data := append(head, raw[16:16+n*784]...)
	path := filepath.Join(dir, "digits.idx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func listDir(t *testing.T, dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCompressCLI: gzip habits — FILE.mz replaces FILE, decompress restores it byte-exact, -k keeps
// the input, an existing output is never overwritten without -f, -c writes to standard output.
func TestCompressCLI(t *testing.T) {
	dir := t.TempDir()
	path, data := subset(t, dir, 200)
	if code, _, e := run(t, "compress", "--verify", path); code != 0 {
		t.Fatalf("compress: exit %d: %s", code, e)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("compress kept the input without -k")
	}
	if code, _, e := run(t, "decompress", "-k", path+".mz"); code != 0 {
		t.Fatalf("decompress: exit %d: %s", code, e)
	}
	if back, _ := os.ReadFile(path); !bytes.Equal(back, data) {
		t.Fatal("decompressed file differs from the original")
	}
	// The output exists now: refused without -f, and nothing is touched.
	if code, _, e := run(t, "decompress", "-k", path+".mz"); code != 1 || !strings.Contains(e, "already exists") {
		t.Errorf("overwrite without -f: exit %d: %s", code, e)
	}
	if code, _, e := run(t, "decompress", "-f", path+".mz"); code != 0 {
		t.Errorf("decompress -f: exit %d: %s", code, e)
	}
	if _, err := os.Stat(path + ".mz"); !os.IsNotExist(err) {
		t.Error("decompress kept the input without -k")
	}
	code, out, _ := run(t, "compress", "-c", path)
	if code != 0 || !strings.HasPrefix(out, "\x89MZ\n") {
		t.Fatalf("compress -c: exit %d, output starts %q", code, out[:min(8, len(out))])
	}
	if _, err := os.Stat(path); err != nil {
		t.Error("compress -c removed the input")
	}
	if code, _, e := run(t, "info", path+".mz"); code != 1 {
		t.Errorf("info of a missing file: exit %d %s", code, e)
	}
}

// TestCompressErrors: bad input gets one clear line, exit 1, no output file, and the input stays.
func TestCompressErrors(t *testing.T) {
	dir := t.TempDir()
	path, _ := subset(t, dir, 50)
	if code, _, e := run(t, "compress", "-k", path); code != 0 {
		t.Fatalf("compress: %s", e)
	}
	packed, _ := os.ReadFile(path + ".mz")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.mz", packed[:len(packed)/2], "truncated"},
		{"flipped.mz", append(append(bytes.Clone(packed[:100]), packed[100]^4), packed[101:]...), "checksum"},
		{"notmz.mz", []byte("just some text\n"), "not an mnistzip"},
		{"empty.mz", nil, "truncated"},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o644)
		code, _, e := run(t, "decompress", p)
		if code != 1 || !strings.Contains(e, c.want) || strings.Count(strings.TrimSpace(e), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and one line with %q", c.name, code, e, c.want)
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: input removed after a failure", c.name)
		}
		if _, err := os.Stat(strings.TrimSuffix(p, ".mz")); !os.IsNotExist(err) {
			t.Errorf("%s: output left behind", c.name)
		}
	}
	// Standard output gets nothing from a file that fails its checks.
	code, out, _ := run(t, "decompress", "-c", filepath.Join(dir, "flipped.mz"))
	if code != 1 || out != "" {
		t.Errorf("decompress -c of a damaged file: exit %d, %d bytes on standard output", code, len(out))
	}
	// The input under another spelling is not an output.
	if code, _, e := run(t, "compress", "-f", "-o", filepath.Join(dir, ".", "digits.idx"), path); code != 1 || !strings.Contains(e, "is the input file") {
		t.Errorf("-o naming the input: exit %d: %s", code, e)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal("the input was lost")
	}
	// An empty IDX and a non-IDX file: nothing to compress, nothing written.
	empty := filepath.Join(dir, "empty.idx")
	head, _ := idx.Header{Type: idx.Ubyte, Dims: []int{0, 28, 28}}.MarshalBinary()
	os.WriteFile(empty, head, 0o644)
	if code, _, e := run(t, "compress", empty); code != 1 || !strings.Contains(e, "nothing to compress") {
		t.Errorf("empty IDX: exit %d: %s", code, e)
	}
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello"), 0o644)
	if code, _, e := run(t, "compress", text); code != 1 || !strings.Contains(e, "bad magic") {
		t.Errorf("text file: exit %d: %s", code, e)
	}
	if code, _, _ := run(t, "compress", "--quality", "3", path); code != 2 {
		t.Errorf("--quality without --lossy: exit %d", code)
	}
	var left []string
	for _, n := range listDir(t, dir) {
		if strings.Contains(n, ".tmp-") || n == "empty.idx.mz" || n == "notes.txt.mz" {
			left = append(left, n)
		}
	}
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestLossyCLI: lossy files decode with the embedded model to its reconstructions, and another
// model is refused with an error naming both.
func TestLossyCLI(t *testing.T) {
	dir := t.TempDir()
	path, data := subset(t, dir, 100)
	if code, _, e := run(t, "compress", "-k", "--lossy", "--quality", "7", "-o", filepath.Join(dir, "l.mz"), path); code != 0 {
		t.Fatalf("compress --lossy: %s", e)
	}
	info, _ := os.Stat(filepath.Join(dir, "l.mz"))
	if info.Size() > 100*20 {
		t.Errorf("lossy: %d bytes for 100 digits", info.Size())
	}
	if code, _, e := run(t, "decompress", "-k", "-o", filepath.Join(dir, "l.idx"), filepath.Join(dir, "l.mz")); code != 0 {
		t.Fatalf("decompress lossy: %s", e)
	}
	back, _ := os.ReadFile(filepath.Join(dir, "l.idx"))
	if len(back) != len(data) || bytes.Equal(back, data) {
		t.Errorf("lossy restore: %d bytes (want %d, not identical to the original)", len(back), len(data))
	}
	code, _, e := run(t, "decompress", "-k", "--model", "../graphs/models/shipped/dae.safetensors", "-o", filepath.Join(dir, "x.idx"), filepath.Join(dir, "l.mz"))
	if code != 1 || !strings.Contains(e, "wrong model") {
		t.Errorf("wrong model: exit %d: %s", code, e)
	}
	// The default is the rate-distortion autoencoder; a file made with the plain one (as lossy
	// files were before it) still decodes with no --model: the built-in is found by the file's id.
	rd, _ := weights.Decode(shipped.LossyAE)
	rdID, _ := rd.ID()
	if code, out, _ := run(t, "info", filepath.Join(dir, "l.mz")); code != 0 || !strings.Contains(out, rdID) {
		t.Errorf("the default lossy file does not name the rate-distortion autoencoder %s:\n%s", rdID, out)
	}
	old := filepath.Join(dir, "plain.mz")
	if code, _, e := run(t, "compress", "-k", "--lossy", "--model", "../graphs/models/shipped/ae.safetensors", "-o", old, path); code != 0 {
		t.Fatalf("compress --lossy with the plain autoencoder: %s", e)
	}
	if code, _, e := run(t, "decompress", "-k", "-o", filepath.Join(dir, "plain.idx"), old); code != 0 {
		t.Errorf("a lossy file of the plain autoencoder, no --model: %s", e)
	}
}

// oneLineError reports whether a command failed with exit 1 and exactly one line on stderr
// containing every want.
func oneLineError(code int, stderr string, want ...string) bool {
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		return false
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			return false
		}
	}
	return true
}

// leftovers lists files in dir other than keep (temporary files included).
func leftovers(t *testing.T, dir string, keep ...string) []string {
	var left []string
	for _, n := range listDir(t, dir) {
		found := false
		for _, k := range keep {
			found = found || n == k
		}
		if !found {
			left = append(left, n)
		}
	}
	return left
}

// runWithin runs the command, failing the test if it takes longer than limit (an input that is
// read to its end before its header is checked never ends: /dev/zero).
func runWithin(t *testing.T, limit time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var o, e bytes.Buffer
		code := runMain(args, &o, &e)
		done <- result{code, o.String(), e.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err
	case <-time.After(limit):
		t.Fatalf("%v still running after %s", args, limit)
	}
	return 0, "", ""
}

// peakHeap runs f and returns the largest heap in use while it ran above what was in use before.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
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
	return max(peak.Load(), base) - base
}

// zeroReader is an endless stream of zero bytes.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// hugeHeader is the IDX header of the hostile input: 65536 × 65536 bytes (4 GiB).
var hugeHeader = idx.Header{Type: idx.Ubyte, Dims: []int{65536, 65536}}

// TestCompressEndlessInput: `compress /dev/zero` fails at once on the header, with one line (it used
// to read the endless input into memory first).
func TestCompressEndlessInput(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	code, out, e := runWithin(t, 20*time.Second, "compress", "-c", "/dev/zero")
	if !oneLineError(code, e, "/dev/zero", "not a valid IDX file", "unknown element type") || out != "" {
		t.Errorf("compress /dev/zero: exit %d, %d bytes out, stderr %q", code, len(out), e)
	}
}

// TestCompressHugeGzip: a gzip file of a few hundred KB whose header claims 65536 × 65536 bytes is
// compressed chunk by chunk until its data runs out, in bounded memory (it used to be read whole
// first: 12.6 GB for a 4 MB file), then refused as truncated with one line and no output file.
func TestCompressHugeGzip(t *testing.T) {
	dir := t.TempDir()
	const fed = 320 << 20
	head, _ := hugeHeader.MarshalBinary()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(head)
	io.Copy(zw, io.LimitReader(zeroReader{}, fed))
	zw.Close()
	path := filepath.Join(dir, "huge.idx.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var code int
	var e string
	peak := peakHeap(func() { code, _, e = runWithin(t, 120*time.Second, "compress", "-k", path) })
	t.Logf("%d-byte gzip claiming %s with %d MiB of data: peak heap %.1f MiB", gz.Len(), hugeHeader, fed>>20, float64(peak)/(1<<20))
	if !oneLineError(code, e, "truncated data") {
		t.Errorf("exit %d, stderr %q; want one line saying the data is truncated", code, e)
	}
	if peak > 256<<20 {
		t.Errorf("peak heap %.0f MiB, want < 256 MiB", float64(peak)/(1<<20))
	}
	if left := leftovers(t, dir, "huge.idx.gz"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestCompressTruncatedInput: an IDX file cut short fails with one line, no output file, and the
// input kept.
func TestCompressTruncatedInput(t *testing.T) {
	dir := t.TempDir()
	path, data := subset(t, dir, 50)
	os.WriteFile(path, data[:len(data)-1000], 0o644)
	code, _, e := run(t, "compress", path)
	if !oneLineError(code, e, "digits.idx", "truncated data") {
		t.Errorf("exit %d, stderr %q", code, e)
	}
	if left := leftovers(t, dir, "digits.idx"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestModelNotAutoencoder: --model naming a classifier's weights says so (it used to say
// `unknown model ""`).
func TestModelNotAutoencoder(t *testing.T) {
	var clf, name string
	for _, n := range []string{"cnn", "densenet", "capsnet"} {
		if p := "../graphs/models/shipped/" + n + ".safetensors"; fileExists(p) {
			clf, name = p, n
			break
		}
	}
	if clf == "" {
		t.Skip("no shipped classifier weights")
	}
	dir := t.TempDir()
	path, _ := subset(t, dir, 100)
	want := `hold the classifier "` + name + `", not an autoencoder the codec can use`
	if code, _, e := run(t, "compress", "-k", "--lossy", "--model", clf, path); !oneLineError(code, e, clf, want) {
		t.Errorf("compress --lossy --model %s: exit %d: %s", clf, code, e)
	}
	lossy := filepath.Join(dir, "l.mz")
	if code, _, e := run(t, "compress", "-k", "--lossy", "--verify", "-o", lossy, path); code != 0 || !strings.Contains(e, "verified") {
		t.Fatalf("compress --lossy --verify: exit %d: %s", code, e)
	}
	if code, _, e := run(t, "decompress", "-k", "--model", clf, "-o", filepath.Join(dir, "x.idx"), lossy); !oneLineError(code, e, want) {
		t.Errorf("decompress --model %s: exit %d: %s", clf, code, e)
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestMissingOutputFolder: an output in a folder that does not exist is reported by its own name
// (it used to be by the temporary file's), before any work, with nothing left behind.
func TestMissingOutputFolder(t *testing.T) {
	dir := t.TempDir()
	path, _ := subset(t, dir, 20)
	if code, _, e := run(t, "compress", "-k", path); code != 0 {
		t.Fatal(e)
	}
	for _, args := range [][]string{
		{"compress", "-k", "-o", filepath.Join(dir, "nowhere", "x.mz"), path},
		{"decompress", "-k", "-o", filepath.Join(dir, "nowhere", "x.idx"), path + ".mz"},
	} {
		code, _, e := run(t, args...)
		out := args[3]
		if !oneLineError(code, e, out, "folder "+filepath.Join(dir, "nowhere")+" does not exist") || strings.Contains(e, ".tmp") {
			t.Errorf("%s -o %s: exit %d: %s", args[0], out, code, e)
		}
	}
	if left := leftovers(t, dir, "digits.idx", "digits.idx.mz"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestConcatenatedMZ: info and decompress refuse two .mz files one after the other with the same
// words (info used to accept what decompress refused).
func TestConcatenatedMZ(t *testing.T) {
	dir := t.TempDir()
	path, _ := subset(t, dir, 20)
	if code, _, e := run(t, "compress", path); code != 0 {
		t.Fatal(e)
	}
	one, _ := os.ReadFile(path + ".mz")
	two := filepath.Join(dir, "two.mz")
	os.WriteFile(two, append(bytes.Clone(one), one...), 0o644)
	icode, _, ie := run(t, "info", two)
	dcode, _, de := run(t, "decompress", "-k", two)
	iMsg, _ := strings.CutPrefix(strings.TrimSpace(ie), "mnistzip info: ")
	dMsg, _ := strings.CutPrefix(strings.TrimSpace(de), "mnistzip decompress: ")
	if icode != 1 || dcode != 1 || iMsg != dMsg || !strings.Contains(iMsg, "bytes follow the final checksum") {
		t.Errorf("info: exit %d %q; decompress: exit %d %q; want the same refusal", icode, ie, dcode, de)
	}
	if code, _, e := run(t, "info", path+".mz"); code != 0 {
		t.Errorf("info of one file: exit %d: %s", code, e)
	}
}

// TestDecompressNoData: a .mz file of an IDX with no data (compress refuses to make one) is refused
// as corrupt by decompress and info alike; it used to decompress.
func TestDecompressNoData(t *testing.T) {
	dir := t.TempDir()
	idxHead, _ := idx.Header{Type: idx.Ubyte, Dims: []int{0, 28, 28}}.MarshalBinary()
	b := []byte{0x89, 'M', 'Z', '\n', 1, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(idxHead)))
	b = append(b, idxHead...)
	b = binary.BigEndian.AppendUint64(b, 0) // data bytes
	b = binary.BigEndian.AppendUint32(b, 0) // chunks
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	sum := sha256.Sum256(idxHead)
	p := filepath.Join(dir, "empty.mz")
	os.WriteFile(p, append(b, sum[:]...), 0o644)
	if code, _, e := run(t, "decompress", p); !oneLineError(code, e, "corrupt", "holds no data") {
		t.Errorf("decompress: exit %d: %s", code, e)
	}
	if code, _, e := run(t, "info", p); !oneLineError(code, e, "corrupt", "holds no data") {
		t.Errorf("info: exit %d: %s", code, e)
	}
	if left := leftovers(t, dir, "empty.mz"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestCompressFlagConflicts: --ae-hints is lossless only: a usage error with --lossy.
func TestCompressFlagConflicts(t *testing.T) {
	dir := t.TempDir()
	path, _ := subset(t, dir, 10)
	if code, _, e := run(t, "compress", "--lossy", "--ae-hints", path); code != 2 || !strings.Contains(e, "--ae-hints") {
		t.Errorf("--lossy --ae-hints: exit %d: %s", code, e)
	}
}
