package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Helpers shared by the op tests: every op is checked in float64 against an independent reference:
// forward against a naive loop implementation, gradients against central finite differences.

var testBackend = func() *Backend {
	b, err := New("")
	if err != nil {
		panic(err)
	}
	return b
}()

type array struct {
	dims []int
	data []float64
}

func randArray(rng *rand.Rand, dims ...int) array {
	n := 1
	for _, d := range dims {
		n *= d
	}
	a := array{dims: dims, data: make([]float64, n)}
	for i := range a.data {
		a.data[i] = rng.Float64()*2 - 1
	}
	return a
}

func (a array) tensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64{}, a.data...), a.dims...)
}

// run evaluates fn on the engine with the given inputs and returns its first output as float64s.
func run(t testing.TB, fn func(inputs []*Node) *Node, inputs ...array) array {
	t.Helper()
	exec, err := NewExecAny(testBackend, func(xs []*Node) *Node { return fn(xs) })
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(inputs))
	for i, in := range inputs {
		args[i] = in.tensor()
	}
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	return array{dims: outs[0].Shape().Dimensions, data: tensors.MustCopyFlatData[float64](outs[0])}
}

// gradients returns d(sum(fn(inputs)·weights))/d(inputs[i]) for every input, computed by GoMLX's
// autodiff on the engine.
func gradients(t testing.TB, fn func(inputs []*Node) *Node, weights array, inputs ...array) []array {
	t.Helper()
	exec, err := NewExecAny(testBackend, func(xs []*Node) []*Node {
		w := xs[len(xs)-1]
		in := xs[:len(xs)-1]
		loss := ReduceAllSum(Mul(fn(in), w))
		return Gradient(loss, in...)
	})
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, 0, len(inputs)+1)
	for _, in := range inputs {
		args = append(args, in.tensor())
	}
	args = append(args, weights.tensor())
	outs, err := exec.Exec(args...)
	if err != nil {
		t.Fatalf("exec gradient: %v", err)
	}
	res := make([]array, len(outs))
	for i, o := range outs {
		res[i] = array{dims: o.Shape().Dimensions, data: tensors.MustCopyFlatData[float64](o)}
	}
	return res
}

// checkGradients compares autodiff gradients with central finite differences on up to maxProbes
// randomly chosen coordinates of each input; returns the worst relative error.
func checkGradients(t *testing.T, name string, fn func(inputs []*Node) *Node, inputs ...array) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	out := run(t, fn, inputs...)
	weights := randArray(rng, out.dims...)
	grads := gradients(t, fn, weights, inputs...)
	loss := func(ins []array) float64 {
		o := run(t, fn, ins...)
		s := 0.0
		for i, v := range o.data {
			s += v * weights.data[i]
		}
		return s
	}
	const eps = 1e-6
	const maxProbes = 12
	worst := 0.0
	for i, in := range inputs {
		for probe := 0; probe < maxProbes && probe < len(in.data); probe++ {
			j := rng.IntN(len(in.data))
			ins := make([]array, len(inputs))
			copy(ins, inputs)
			plus := array{dims: in.dims, data: append([]float64{}, in.data...)}
			minus := array{dims: in.dims, data: append([]float64{}, in.data...)}
			plus.data[j] += eps
			minus.data[j] -= eps
			ins[i] = plus
			lp := loss(ins)
			ins[i] = minus
			lm := loss(ins)
			numeric := (lp - lm) / (2 * eps)
			got := grads[i].data[j]
			rel := math.Abs(got-numeric) / math.Max(1e-3, math.Abs(numeric)+math.Abs(got))
			worst = math.Max(worst, rel)
			if rel > 1e-5 {
				t.Errorf("%s: d/d input%d[%d]: autodiff %.9g, finite differences %.9g (rel err %.2g)", name, i, j, got, numeric, rel)
			}
		}
	}
	t.Logf("%s gradient: worst relative error %.2g", name, worst)
}

// checkClose compares two arrays element-wise; returns the worst relative error.
func checkClose(t *testing.T, name string, got, want array, tol float64) {
	t.Helper()
	if len(got.data) != len(want.data) {
		t.Fatalf("%s: got %v elements (dims %v), want %v (dims %v)", name, len(got.data), got.dims, len(want.data), want.dims)
	}
	worst := 0.0
	for i := range got.data {
		rel := math.Abs(got.data[i]-want.data[i]) / math.Max(1, math.Abs(want.data[i]))
		if rel > worst {
			worst = rel
		}
	}
	if worst > tol {
		t.Errorf("%s: worst relative error %.3g > %.1g", name, worst, tol)
	} else {
		t.Logf("%s forward: worst relative error %.2g", name, worst)
	}
}
