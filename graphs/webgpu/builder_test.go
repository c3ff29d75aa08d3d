package webgpu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// TestModelsBuild builds one training step of every model, at every size, on the backend without a
// device: each op of the forward pass, the engine's gradients and Adam must have a WebGPU kernel, so
// building stops only at Compile, which needs the browser's device. (The kernels themselves run in
// headless Chromium: native/browser_test.go.)
func TestModelsBuild(t *testing.T) {
	set, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	backend := &Backend{dev: &hostOnly{}}
	for _, m := range zoo.Models() {
		for _, size := range append([]string{""}, m.Sizes...) {
			if m.Name == "capsnet" && size == "paper" {
				continue // the same ops as the small one, built 10× slower
			}
			t.Run(m.Name+":"+size, func(t *testing.T) {
				cfg, err := m.NewConfig(size)
				if err != nil {
					t.Fatal(err)
				}
				task, err := m.Task(cfg)
				if err != nil {
					t.Fatal(err)
				}
				opt := training.Options{Epochs: 1, Batch: 4, LR: 1e-3, Seed: 1, MaxSteps: 1, Schedule: "cosine"}
				_, err = training.Run(backend, task, training.FromSet(set, 0, 8), nil, opt, nil)
				if err == nil || !strings.Contains(err.Error(), "graph built") {
					t.Fatalf("want the graph built up to Compile, got %v", err)
				}
			})
		}
	}
}

// hostOnly keeps buffers on the host and stops at Compile: it lets a graph be built natively.
type hostOnly struct{ kernels map[string]bool }

type hostBuffer struct {
	shape shapes.Shape
	flat  any
}

func (h *hostOnly) compile(b *Builder, outputs []*node) (backends.Executable, error) {
	if h.kernels == nil {
		h.kernels = map[string]bool{}
	}
	for _, n := range b.nodes {
		for _, d := range n.dispatches {
			h.kernels[d.source] = true
		}
	}
	return nil, fmt.Errorf("graph built: %d nodes, %d outputs", len(b.nodes), len(outputs))
}
func (h *hostOnly) upload(flat any, shape shapes.Shape) (backends.Buffer, error) {
	return &hostBuffer{shape, flat}, nil
}
func (h *hostOnly) download(backends.Buffer, any) error { return errors.New("host only") }
func (h *hostOnly) release(backends.Buffer) error       { return nil }
func (h *hostOnly) shapeOf(buf backends.Buffer) (shapes.Shape, error) {
	return buf.(*hostBuffer).shape, nil
}
func (h *hostOnly) describe() string { return "host only" }
