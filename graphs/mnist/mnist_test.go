package mnist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// synthetic returns a set of n fake digits: image i is filled with byte i,
// label i is i%10.
func synthetic(n int) *Set {
	s := &Set{N: n, Rows: Rows, Cols: Cols, Images: make([]uint8, n*ImageSize), Labels: make([]uint8, n)}
	for i := range n {
		for j := range ImageSize {
			s.Images[i*ImageSize+j] = uint8(i)
		}
		s.Labels[i] = uint8(i % 10)
	}
	return s
}

// writeIDX writes an IDX file, gzip-compressed or not.
func writeIDX(t *testing.T, path string, dims []int, data []byte, gz bool) {
	t.Helper()
	if err := idx.WriteFile(path, idx.Header{Type: idx.Ubyte, Dims: dims}, data, gz); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFilesAndSubset(t *testing.T) {
	dir := t.TempDir()
	set := synthetic(12)
	im, lb := filepath.Join(dir, "im.gz"), filepath.Join(dir, "lb.gz")
	writeIDX(t, im, []int{12, 28, 28}, set.Images, true)
	writeIDX(t, lb, []int{12}, set.Labels, true)
	got, err := LoadFiles(im, lb)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 12 || got.Rows != 28 || got.Cols != 28 || !bytes.Equal(got.Images, set.Images) || !bytes.Equal(got.Labels, set.Labels) {
		t.Fatalf("LoadFiles: N %d %d×%d", got.N, got.Rows, got.Cols)
	}
	if img := got.Image(5); len(img) != ImageSize || img[0] != 5 || img[ImageSize-1] != 5 {
		t.Error("Image(5) is wrong")
	}
	if h := Histogram(got.Labels); h != [10]int{2, 2, 1, 1, 1, 1, 1, 1, 1, 1} {
		t.Errorf("Histogram = %v", h)
	}

	// A subset round-trips, as raw IDX.
	sim, slb := filepath.Join(dir, "sub-images.idx"), filepath.Join(dir, "sub-labels.idx")
	if err := WriteSubset(got, 3, 4, sim, slb); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(slb); !bytes.Equal(raw, []byte{0, 0, 8, 1, 0, 0, 0, 4, 3, 4, 5, 6}) {
		t.Errorf("labels subset file is % x", raw)
	}
	sub, err := LoadFiles(sim, slb)
	if err != nil {
		t.Fatal(err)
	}
	if sub.N != 4 || !bytes.Equal(sub.Images, set.Images[3*ImageSize:7*ImageSize]) || !bytes.Equal(sub.Labels, set.Labels[3:7]) {
		t.Error("subset differs")
	}
	for _, r := range [][2]int{{-1, 2}, {0, -1}, {10, 3}, {13, 0}} {
		if err := WriteSubset(got, r[0], r[1], sim, slb); err == nil {
			t.Errorf("WriteSubset(%d, %d) succeeded", r[0], r[1])
		}
	}
	if err := WriteSubset(got, 12, 0, sim, slb); err != nil {
		t.Errorf("empty subset at the end: %v", err)
	}
}

func TestLoadFilesRejects(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	writeIDX(t, p("ok-images"), []int{2, 28, 28}, make([]byte, 2*ImageSize), false)
	writeIDX(t, p("ok-labels"), []int{2}, []byte{0, 9}, false)
	writeIDX(t, p("3-labels"), []int{3}, []byte{0, 1, 2}, false)
	writeIDX(t, p("bad-label"), []int{2}, []byte{3, 10}, false)
	writeIDX(t, p("2d-labels"), []int{2, 1}, []byte{3, 1}, false)
	writeIDX(t, p("small-images"), []int{2, 14, 56}, make([]byte, 2*ImageSize), false)
	if err := idx.WriteFile(p("sbyte-labels"), idx.Header{Type: idx.Sbyte, Dims: []int{2}}, []byte{1, 2}, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p("cut-labels"), []byte{0, 0, 8, 1, 0, 0, 0, 2, 1}, 0o644)
	for _, tc := range []struct {
		images, labels string
		want           error
		msg            string
	}{
		{"ok-images", "3-labels", ErrFormat, "2 images but"},
		{"ok-images", "bad-label", ErrFormat, "label 1 is 10"},
		{"ok-images", "2d-labels", ErrFormat, "2 × 1 ubyte, want N ubyte"},
		{"small-images", "ok-labels", ErrFormat, "2 × 14 × 56 ubyte, want N × 28 × 28 ubyte"},
		{"ok-images", "sbyte-labels", idx.ErrWrongType, "sbyte-labels"},
		{"ok-images", "cut-labels", idx.ErrTruncatedData, "cut-labels"},
		{"ok-images", "missing", os.ErrNotExist, "missing"},
	} {
		_, err := LoadFiles(p(tc.images), p(tc.labels))
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s, %s: %v, want %v with %q", tc.images, tc.labels, err, tc.want, tc.msg)
		}
	}
	if _, err := LoadFiles(p("ok-images"), p("ok-labels")); err != nil {
		t.Error(err)
	}
}

// fakeFiles writes four small files into dir and returns their File list,
// standing in for the canonical ones whose hashes synthetic data can't have.
func fakeFiles(t *testing.T, dir string) []File {
	t.Helper()
	var files []File
	for i, name := range []string{TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile} {
		content := []byte(strings.Repeat(name, i+1))
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		files = append(files, File{name, hex.EncodeToString(sum[:])})
	}
	return files
}

func TestInstallVerify(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "data", "mnist")
	files := fakeFiles(t, src)

	err := verify(dst, files)
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `run "make data"`) {
		t.Errorf("verify before install: %v", err)
	}
	if err := install(src, dst, files); err != nil {
		t.Fatal(err)
	}
	if err := verify(dst, files); err != nil {
		t.Fatal(err)
	}
	// Installing again skips the files: make the source unreadable garbage
	// and it still succeeds.
	for _, f := range files {
		os.WriteFile(filepath.Join(src, f.Name), []byte("garbage"), 0o644)
	}
	if err := install(src, dst, files); err != nil {
		t.Errorf("reinstall: %v", err)
	}
	assertOnly(t, dst, files)

	// A damaged installed file fails verify and is replaced by install,
	// unless the source is bad too: then the error names the file and the
	// hashes, and nothing new is left behind.
	damaged := filepath.Join(dst, files[2].Name)
	os.WriteFile(damaged, []byte("damaged"), 0o644)
	if err := verify(dst, files); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), files[2].Name) {
		t.Errorf("verify damaged: %v", err)
	}
	err = install(src, dst, files)
	want := []string{files[2].Name, "expected " + files[2].SHA256, "got "}
	for _, w := range want {
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), w) {
			t.Errorf("install from bad source: %v, want %q", err, w)
		}
	}
	assertOnly(t, dst, files)
	if got, _ := os.ReadFile(damaged); string(got) != "damaged" {
		t.Error("a failed install touched the installed file")
	}
	// With a good source again, install repairs it.
	fakeFiles(t, src)
	if err := install(src, dst, files); err != nil {
		t.Fatal(err)
	}
	if err := verify(dst, files); err != nil {
		t.Error(err)
	}
	// A missing source file is an error naming it.
	os.Remove(filepath.Join(src, files[0].Name))
	os.Remove(filepath.Join(dst, files[0].Name))
	if err := install(src, dst, files); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), files[0].Name) {
		t.Errorf("missing source: %v", err)
	}
	assertOnly(t, dst, files[1:])
}

// assertOnly checks dir holds exactly files (no temp files).
func assertOnly(t *testing.T, dir string, files []File) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(files) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v, want %d files", dir, names, len(files))
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nowhere"), Test)
	if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `run "make data"`) {
		t.Errorf("Load from a missing folder: %v", err)
	}
	if err := Verify(filepath.Join(t.TempDir(), "nowhere")); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `run "make data"`) {
		t.Errorf("Verify of a missing folder: %v", err)
	}
	if _, err := Load(t.TempDir(), Split(7)); err == nil {
		t.Error("Load of an unknown split succeeded")
	}
}

// testHistogram is the class histogram of the MNIST test set.
var testHistogram = [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}

// checkTestSet checks a loaded MNIST test split.
func checkTestSet(t *testing.T, set *Set) {
	t.Helper()
	if set.N != TestSize || len(set.Images) != TestSize*ImageSize || set.Rows != 28 || set.Cols != 28 {
		t.Fatalf("test set: N %d, %d image bytes, %d×%d", set.N, len(set.Images), set.Rows, set.Cols)
	}
	if h := Histogram(set.Labels); h != testHistogram {
		t.Errorf("histogram %v, want %v", h, testHistogram)
	}
}

// TestRealData loads the installed test split, if `make data` has run.
func TestRealData(t *testing.T) {
	dir := filepath.Join("..", "..", DefaultDir)
	if _, err := os.Stat(filepath.Join(dir, TestImagesFile)); err != nil {
		t.Skipf("no MNIST in %s (run make data)", dir)
	}
	if err := Verify(dir); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir, Test)
	if err != nil {
		t.Fatal(err)
	}
	checkTestSet(t, set)
}

// goMNISTData is the GoMNIST module's data folder in the module cache.
func goMNISTData() string {
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		cache = filepath.Join(build.Default.GOPATH, "pkg", "mod")
	}
	return filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
}

// TestInstallReal installs from the module cache, if GoMNIST is there, and
// checks the real hashes and the test split.
func TestInstallReal(t *testing.T) {
	src := goMNISTData()
	if _, err := os.Stat(filepath.Join(src, TestImagesFile)); err != nil {
		t.Skipf("GoMNIST not in the module cache (%s)", src)
	}
	dst := t.TempDir()
	if err := Install(src, dst); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dst); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dst, Test)
	if err != nil {
		t.Fatal(err)
	}
	checkTestSet(t, set)
}
