package pixels

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/mnistzip/mnistzip/codec/streams"
)

func testImages(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/t10k-1000-images-idx3-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	return b[16:]
}

func TestTokens(t *testing.T) {
	for v := range 256 {
		tok, rem := tokenOf(byte(v))
		if tok >= tokens || rem >= remainders || valueOf(tok, rem) != byte(v) {
			t.Errorf("%d → token %d remainder %d → %d", v, tok, rem, valueOf(tok, rem))
		}
	}
}

// TestRoundTrip: real digits and random noise come back exactly, with and without hints, in both
// models; real digits come out far below 8 bits per pixel.
func TestRoundTrip(t *testing.T) {
	real := testImages(t)
	r := rand.New(rand.NewPCG(3, 4))
	noise := make([]byte, 20*imageSize)
	for i := range noise {
		noise[i] = byte(r.IntN(256))
	}
	hints := make([]uint8, len(real))
	for i, v := range real {
		hints[i] = uint8((int(v) + r.IntN(64)) / 64 % 4)
	}
	for _, m := range Models {
		for _, c := range []struct {
			name   string
			images []byte
			hints  []uint8
			levels int
		}{{"digits", real, nil, 1}, {"noise", noise, nil, 1}, {"digits+hints", real, hints, 4}} {
			data, err := Encode(c.images, m, c.hints, c.levels)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(data, len(c.images)/imageSize, m, c.hints, c.levels)
			if err != nil || !bytes.Equal(back, c.images) {
				t.Fatalf("%s %s: round trip failed: %v", m, c.name, err)
			}
			bpp := 8 * float64(len(data)) / float64(len(c.images))
			t.Logf("%s %s: %.3f bits/pixel", m, c.name, bpp)
			if c.name == "digits" && bpp > 1.6 {
				t.Errorf("%s: %.3f bits/pixel on real digits", m, bpp)
			}
		}
	}
	// Decoding with other hints or another model fails or differs; it never panics.
	data, _ := Encode(real, Basic, hints, 4)
	if back, err := Decode(data, len(real)/imageSize, Basic, make([]uint8, len(real)), 4); err == nil && bytes.Equal(back, real) {
		t.Error("decoding with the wrong hints gave the right images")
	}
	if _, err := Decode(data, len(real)/imageSize, Model(9), hints, 4); !errors.Is(err, streams.ErrCorrupt) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := Encode(real[:100], Basic, nil, 1); err == nil {
		t.Error("a partial image accepted")
	}
}
