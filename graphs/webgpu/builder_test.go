package webgpu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
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
type hostOnly struct {
	kernels                   map[string]bool
	unfused, fused, fusedAway int // dispatches of the last graph without and with fusion
	remaining                 map[string]int
}

type hostBuffer struct {
	shape shapes.Shape
	flat  any
}

func (h *hostOnly) compile(b *Builder, outputs []*node) (backends.Executable, error) {
	if h.kernels == nil {
		h.kernels = map[string]bool{}
	}
	p := makePlan(b, outputs, DefaultStorageBuffers)
	allocated := map[*node]bool{}
	for _, n := range p.order {
		allocated[n] = true
	}
	for _, n := range p.order {
		for _, d := range p.dispatches[n] {
			for _, r := range append(append([]*node{}, d.reads...), d.writes...) {
				if !allocated[r.storage()] {
					return nil, fmt.Errorf("dispatch of %d %s binds %d %s, which has no buffer:\n%s", n.id, n.op, r.storage().id, r.storage().op, d.source)
				}
			}
			written := map[*node]bool{n: true}
			for _, w := range d.writes {
				written[w.storage()] = true
			}
			for _, r := range d.reads {
				if written[r.storage()] {
					return nil, fmt.Errorf("dispatch of %d %s reads %d %s, which it writes:\n%s", n.id, n.op, r.storage().id, r.storage().op, d.source)
				}
			}
		}
	}
	h.remaining = map[string]int{}
	for _, n := range p.order {
		for _, d := range p.dispatches[n] {
			h.kernels[d.source] = true
			if !p.static[n] {
				h.remaining[n.op.String()+strings.ReplaceAll(fmt.Sprint(n.shape.Dimensions), " ", "x")]++
			}
		}
	}
	h.unfused, h.fused, h.fusedAway = 0, 0, p.fused
	for _, n := range b.nodes {
		h.unfused += len(n.dispatches)
	}
	for _, n := range p.order {
		h.fused += len(p.dispatches[n])
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

// TestFusion: element-wise chains become one kernel; a value read twice keeps its buffer.
func TestFusion(t *testing.T) {
	h := &hostOnly{}
	b := NewBuilder("fusion", h.compile)
	x, _ := b.Parameter("x", shapes.Make(dtypes.Float32, 4, 5), nil)
	y, _ := b.Parameter("y", shapes.Make(dtypes.Float32, 1, 5), nil)
	two, _ := b.Constant([]float32{2})
	ex, _ := b.Exp(x)
	m, _ := b.Mul(ex, two)
	a, _ := b.Add(m, y) // y broadcast: a general leaf
	shared, _ := b.Tanh(a)
	out1, _ := b.Sub(shared, x)
	out2, _ := b.Mul(shared, shared) // shared is read twice: stored by the first kernel
	if _, err := b.Compile([]backends.Op{out1, out2}, nil); err == nil || !strings.Contains(err.Error(), "graph built") {
		t.Fatal(err)
	}
	// exp, mul, add, tanh and sub → one kernel, which also stores tanh (read twice by the last mul).
	if h.fused != 2 || h.fusedAway != 4 {
		t.Errorf("%d dispatches after fusion, %d nodes fused away; want 2 and 4", h.fused, h.fusedAway)
	}
	var src string
	for k := range h.kernels {
		if strings.Contains(k, "tanh") {
			src = k
		}
	}
	for _, want := range []string{"exp(x)", "x * y", "x + y", "tanh(x)", "in1[at1]", "bitcast<f32>(0x40000000u)", "out1[i] = v"} {
		if !strings.Contains(src, want) {
			t.Errorf("fused kernel lacks %q:\n%s", want, src)
		}
	}
}

// TestModelsFuse: the tiny CNN's training step needs far fewer dispatches fused.
func TestModelsFuse(t *testing.T) {
	set, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostOnly{}
	m, _ := zoo.Lookup("cnn")
	cfg, _ := m.NewConfig("tiny")
	task, _ := m.Task(cfg)
	_, err = training.Run(&Backend{dev: h}, task, training.FromSet(set, 0, 64), nil,
		training.Options{Epochs: 1, Batch: 32, LR: 1e-3, Seed: 1, MaxSteps: 1, Schedule: "cosine"}, nil)
	if err == nil || !strings.Contains(err.Error(), "graph built") {
		t.Fatal(err)
	}
	t.Logf("tiny CNN training step: %d dispatches, %d fused: %v", h.unfused, h.fused, h.remaining)
	if !(h.fused < h.unfused/2) {
		t.Errorf("fusion left %d of %d dispatches", h.fused, h.unfused)
	}
}

// TestCasesPlan compiles the browser's op cases on the host-only device: every buffer a dispatch
// binds exists, and none is read and written by one dispatch.
func TestCasesPlan(t *testing.T) {
	backend := &Backend{dev: &hostOnly{}}
	for _, c := range opCases() {
		_, err := run(backend, c.fn, randomInputs(c, rand.New(rand.NewPCG(1, 1))))
		if err == nil || !strings.Contains(err.Error(), "graph built") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
