package service

import (
	"os"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/engine"
)

// BenchmarkClassifyOne is the demo page's per-stroke work: one digit through the shipped CNN with
// calibrated probabilities (the page adds only the worker's postMessage round trip). ENGINE_CONFIG
// passes a simplego configuration (e.g. "ops_sequential,dotgeneral_large") to compare its kernels.
func BenchmarkClassifyOne(b *testing.B) {
	be, err := engine.New(os.Getenv("ENGINE_CONFIG"))
	if err != nil {
		b.Fatal(err)
	}
	s := New(be)
	if _, err := s.Load("cnn", mustRead(b, "../models/shipped/cnn.safetensors")); err != nil {
		b.Fatal(err)
	}
	img := make([]float32, 784)
	for i := range img {
		img[i] = float32(i%29) / 29
	}
	if _, err := s.Classify("cnn", img, 1); err != nil { // compiles the graph
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Classify("cnn", img, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func mustRead(b *testing.B, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
