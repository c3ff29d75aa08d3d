package service

import (
	"os"
	"testing"
)

// TestVAEEncodeBatches: the VAE encodes at several batch sizes. Its encoder graph builds a
// log-variance layer the encode output does not need; simplego (GoMLX v0.26.0) panics with "index out
// of range" on a parameter no output uses, so the graph outputs it too (found by the page's latent
// explorer encoding 1,000 digits).
func TestVAEEncodeBatches(t *testing.T) {
	s := newService(t)
	b, _ := os.ReadFile("../models/shipped/vae.safetensors")
	if _, err := s.Load("vae", b); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{100, 3, 1000} {
		images, _ := digits(t, n)
		if _, err := s.Encode("vae", images, n); err != nil {
			t.Errorf("n=%d: %v", n, err)
		}
	}
}
