package cm

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

func readImages(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var r io.Reader = f
	if bytes.HasSuffix([]byte(path), []byte(".gz")) {
		if r, err = gzip.NewReader(f); err != nil {
			t.Fatal(err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b[16:]
}

func TestRoundTrip(t *testing.T) {
	img := readImages(t, "../../testdata/train-1000-images-idx3-ubyte")
	n := len(img) / imageSize
	start := time.Now()
	p, err := Encode(img, n)
	if err != nil {
		t.Fatal(err)
	}
	enc := time.Since(start)
	start = time.Now()
	back, err := Decode(p, n)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, img) {
		t.Fatal("decoded images differ")
	}
	t.Logf("%d images: %d bytes, %.4f bits/pixel; encode %s, decode %s", n, len(p), float64(8*len(p))/float64(len(img)), enc, time.Since(start))
}

// TestT10k measures the full test set: CM_FULL=1 go test -run T10k -v ./codec/cm/
func TestT10k(t *testing.T) {
	if os.Getenv("CM_FULL") == "" {
		t.Skip("CM_FULL=1 codes the 10,000 test images")
	}
	img := readImages(t, "../../data/mnist/t10k-images-idx3-ubyte.gz")
	if k, err := strconv.Atoi(os.Getenv("CM_N")); err == nil && k > 0 && k*imageSize < len(img) {
		img = img[:k*imageSize] // a quicker measure while tuning
	}
	n := len(img) / imageSize
	start := time.Now()
	p, err := Encode(img, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("t10k: %d bytes, %.4f bits/pixel; encode %s", len(p), float64(8*len(p))/float64(len(img)), time.Since(start))
	if os.Getenv("CM_DECODE") != "" {
		back, err := Decode(p, n)
		if err != nil || !bytes.Equal(back, img) {
			t.Fatal("round trip failed", err)
		}
	}
}
