package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistzip/mnistzip/codec/idx"
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
}
