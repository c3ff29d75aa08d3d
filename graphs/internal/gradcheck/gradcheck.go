// Package gradcheck checks GoMLX ops in float64 against independent references: forward results
// against naive loop implementations, gradients against central finite differences. Used by the
// engine's and the layers' tests (including under js/wasm).
package gradcheck

import (
	"github.com/gomlx/gomlx/backends"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Helpers shared by the op tests: every op is checked in float64 against an independent reference:
// forward against a naive loop implementation, gradients against central finite differences.

// Backend is the backend the checks run on; tests set it.
var Backend backends.Backend

type Array struct {
	Dims []int
	Data []float64
}

func Rand(rng *rand.Rand, dims ...int) Array {
	n := 1
	for _, d := range dims {
		n *= d
	}
	a := Array{Dims: dims, Data: make([]float64, n)}
	for i := range a.Data {
		a.Data[i] = rng.Float64()*2 - 1
	}
	return a
}

func (a Array) tensor() *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(append([]float64{}, a.Data...), a.Dims...)
}

// run evaluates fn on the engine with the given inputs and returns its first output as float64s.
func Run(t testing.TB, fn func(inputs []*Node) *Node, inputs ...Array) Array {
	t.Helper()
	exec, err := NewExecAny(Backend, func(xs []*Node) *Node { return fn(xs) })
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
	return Array{Dims: outs[0].Shape().Dimensions, Data: tensors.MustCopyFlatData[float64](outs[0])}
}

// gradients returns d(sum(fn(inputs)·weights))/d(inputs[i]) for every input, computed by GoMLX's
// autodiff on the engine.
func Gradients(t testing.TB, fn func(inputs []*Node) *Node, weights Array, inputs ...Array) []Array {
	t.Helper()
	exec, err := NewExecAny(Backend, func(xs []*Node) []*Node {
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
	res := make([]Array, len(outs))
	for i, o := range outs {
		res[i] = Array{Dims: o.Shape().Dimensions, Data: tensors.MustCopyFlatData[float64](o)}
	}
	return res
}

// checkGradients compares autodiff gradients with central finite differences on up to maxProbes
// randomly chosen coordinates of each input; returns the worst relative error.
func CheckGradients(t *testing.T, name string, fn func(inputs []*Node) *Node, inputs ...Array) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	out := Run(t, fn, inputs...)
	weights := Rand(rng, out.Dims...)
	grads := Gradients(t, fn, weights, inputs...)
	loss := func(ins []Array) float64 {
		o := Run(t, fn, ins...)
		s := 0.0
		for i, v := range o.Data {
			s += v * weights.Data[i]
		}
		return s
	}
	const eps = 1e-6
	const maxProbes = 12
	worst := 0.0
	for i, in := range inputs {
		for probe := 0; probe < maxProbes && probe < len(in.Data); probe++ {
			j := rng.IntN(len(in.Data))
			ins := make([]Array, len(inputs))
			copy(ins, inputs)
			plus := Array{Dims: in.Dims, Data: append([]float64{}, in.Data...)}
			minus := Array{Dims: in.Dims, Data: append([]float64{}, in.Data...)}
			plus.Data[j] += eps
			minus.Data[j] -= eps
			ins[i] = plus
			lp := loss(ins)
			ins[i] = minus
			lm := loss(ins)
			numeric := (lp - lm) / (2 * eps)
			got := grads[i].Data[j]
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
func CheckClose(t *testing.T, name string, got, want Array, tol float64) {
	t.Helper()
	if len(got.Data) != len(want.Data) {
		t.Fatalf("%s: got %v elements (dims %v), want %v (dims %v)", name, len(got.Data), got.Dims, len(want.Data), want.Dims)
	}
	worst := 0.0
	for i := range got.Data {
		rel := math.Abs(got.Data[i]-want.Data[i]) / math.Max(1, math.Abs(want.Data[i]))
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
