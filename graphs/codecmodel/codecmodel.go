// Package codecmodel hands a trained autoencoder to the codec. Model has the methods of codec/mz's
// Autoencoder interface, so it satisfies it without this package importing the codec (data flows one
// way: codec/ imports nothing of graphs/); the hosts load a Model and give it to an mz.Encoder or
// mz.Decoder.
package codecmodel

import (
	"fmt"
	"sync"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// Model runs a trained autoencoder's encoder and decoder graphs for the codec.
type Model struct {
	id       string
	codeSize int
	ae       *evaluate.Autoencoder
	mu       sync.Mutex // one graph execution at a time: the backend already uses every core
}

// Load prepares the autoencoder in f on backend. Weights of any other model (a classifier) are
// refused with an error that says what they hold.
func Load(backend backends.Backend, f *weights.File) (*Model, error) {
	m, err := zoo.Lookup(f.Manifest.Model)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if m.Family != zoo.Autoencoder {
		return nil, fmt.Errorf("the weights hold the %s %q, not an autoencoder the codec can use", m.Family, m.Name)
	}
	id, err := f.ID()
	if err != nil {
		return nil, err
	}
	t, err := zoo.Load(backend, f)
	if err != nil {
		return nil, err
	}
	return &Model{id: id, codeSize: t.Autoencoder.Config.CodeSize, ae: t.Autoencoder}, nil
}

// ID is the weights' id, which .mz files name.
func (m *Model) ID() string { return m.id }

// CodeSize is the length of one image's code.
func (m *Model) CodeSize() int { return m.codeSize }

// Encode maps n images ([n, 784] in [0, 1]) to their codes ([n, CodeSize]).
func (m *Model) Encode(images []float32, n int) ([]float32, error) {
	return m.run(func() ([]float32, error) { return m.ae.Encode(images, n) })
}

// Decode maps n codes to their reconstructions ([n, 784] in [0, 1]).
func (m *Model) Decode(codes []float32, n int) ([]float32, error) {
	return m.run(func() ([]float32, error) { return m.ae.Decode(codes, n) })
}

// run executes one graph at a time and turns GoMLX's panics into errors at this boundary.
func (m *Model) run(f func() ([]float32, error)) (out []float32, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("autoencoder %s: %v", m.id, r)
		}
	}()
	return f()
}
