package codecmodel

import (
	"os"
	"strings"
	"testing"

	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/models/shipped"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// TestLoad: the shipped autoencoder codes 100 images to CodeSize values each and back to 784, twice
// identically (the codec recomputes the reconstruction to decompress); a classifier's weights are
// refused with an error naming what they hold.
func TestLoad(t *testing.T) {
	backend, _, err := graphs.BitExactBackend()
	if err != nil {
		t.Fatal(err)
	}
	w, err := weights.Decode(shipped.AE)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Load(backend, w)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := w.ID(); m.ID() != id || m.CodeSize() < 1 {
		t.Fatalf("id %q (want %q), code size %d", m.ID(), id, m.CodeSize())
	}
	images := make([]float32, 100*784)
	for i := range images {
		images[i] = float32(i%7) / 6
	}
	codes, err := m.Encode(images, 100)
	if err != nil || len(codes) != 100*m.CodeSize() {
		t.Fatalf("encode: %d values, %v", len(codes), err)
	}
	a, err := m.Decode(codes, 100)
	if err != nil || len(a) != 100*784 {
		t.Fatalf("decode: %d values, %v", len(a), err)
	}
	b, _ := m.Decode(codes, 100)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("decode differs at %d: %v then %v", i, a[i], b[i])
		}
	}

	for _, name := range []string{"cnn", "densenet"} {
		data, err := os.ReadFile("../models/shipped/" + name + ".safetensors")
		if err != nil {
			continue
		}
		f, err := weights.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Load(backend, f)
		if err == nil || !strings.Contains(err.Error(), `classifier "`+name+`", not an autoencoder`) {
			t.Errorf("%s weights: %v", name, err)
		}
		return
	}
	t.Skip("no shipped classifier weights to refuse")
}
