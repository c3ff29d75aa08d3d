package streams

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestRoundTrip: every storage mode (empty, run, raw, fse, huff0) gives back its symbols.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	skewed := make([]byte, 200000) // fse: 99% zeros
	for i := range skewed {
		if r.IntN(100) == 0 {
			skewed[i] = byte(1 + r.IntN(20))
		}
	}
	flat := make([]byte, 5000) // huff0 or raw: near-uniform over 64 values
	for i := range flat {
		flat[i] = byte(r.IntN(64))
	}
	uniform := make([]byte, 3000) // raw: incompressible
	for i := range uniform {
		uniform[i] = byte(r.IntN(256))
	}
	in := [][]byte{nil, {7}, bytes.Repeat([]byte{3}, 1000), skewed, flat, uniform, {1, 2}}
	enc := NewEncoder(len(in))
	for s, sym := range in {
		for _, b := range sym {
			enc.Put(s, b)
		}
	}
	data, err := enc.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range in {
		total += len(s)
	}
	t.Logf("%d symbols in %d bytes", total, len(data))
	dec, err := NewDecoder(data, len(in), total)
	if err != nil {
		t.Fatal(err)
	}
	for s, sym := range in {
		for i, want := range sym {
			got, err := dec.Next(s)
			if err != nil || got != want {
				t.Fatalf("stream %d symbol %d: got %d, %v; want %d", s, i, got, err, want)
			}
		}
	}
	if err := dec.Done(); err != nil {
		t.Error(err)
	}
	if _, err := dec.Next(0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reading past a stream: %v", err)
	}
	// Wrong expectations and damage are refused, never panic.
	if _, err := NewDecoder(data, len(in)+1, total); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong stream count: %v", err)
	}
	if _, err := NewDecoder(data, len(in), total-1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("more symbols than allowed: %v", err)
	}
	for cut := 0; cut < len(data); cut += 1 + len(data)/97 {
		if _, err := NewDecoder(data[:cut], len(in), total); err == nil {
			t.Fatalf("cut at %d of %d accepted", cut, len(data))
		}
	}
}

func FuzzDecoder(f *testing.F) {
	enc := NewEncoder(3)
	for i := range 500 {
		enc.Put(i%3, byte(i%5))
	}
	data, _ := enc.Bytes()
	f.Add(data)
	f.Add([]byte{3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := NewDecoder(data, 3, 1000)
		if err != nil {
			return
		}
		for s := range 3 {
			for {
				if _, err := d.Next(s); err != nil {
					break
				}
			}
		}
	})
}
