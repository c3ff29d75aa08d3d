package webgpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// CaseResult is one op (or composition) run on two backends on the same random inputs.
type CaseResult struct {
	Name      string  `json:"name"`
	MaxError  float64 `json:"maxError"` // largest |got − want| / (1 + |want|) over the outputs
	Tolerance float64 `json:"tolerance"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
}

// opCase is a graph function and the shapes of its random inputs (float32 N(0,1), or int32 in
// [0, intRange) where the dtype is Int32).
type opCase struct {
	name     string
	inputs   []shapes.Shape
	intRange int
	positive bool // inputs |x| + 0.1 (logarithms, roots, powers)
	fn       func(in []*Node) *Node
	tol      float64
}

func f32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }
func i32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Int32, dims...) }

// float32 accumulates rounding differently on the GPU (other summation order, fused multiply-adds):
// element-wise ops agree to a few ulps, sums and products of hundreds of terms to ~1e-5 relative.
const (
	tolElementwise = 2e-6
	tolTranscend   = 1e-5
	tolProducts    = 1e-4
	// SwiftShader's sin and cos are accurate to ~1e-4 absolute (measured: 9.5e-5 on N(0,1) inputs);
	// the graphs here use cos only for the learning-rate schedule.
	tolTrig = 2e-4
)

func opCases() []opCase {
	un := func(name string, f func(*Node) *Node, positive bool, tol float64) opCase {
		return opCase{name: name, inputs: []shapes.Shape{f32(3, 5, 7)}, positive: positive, tol: tol,
			fn: func(in []*Node) *Node { return f(in[0]) }}
	}
	bin := func(name string, f func(a, b *Node) *Node, b shapes.Shape, positive bool) opCase {
		return opCase{name: name, inputs: []shapes.Shape{f32(3, 4, 5), b}, positive: positive, tol: tolTranscend,
			fn: func(in []*Node) *Node { return f(in[0], in[1]) }}
	}
	cases := []opCase{
		un("Neg", Neg, false, 0), un("Abs", Abs, false, 0), un("Sign", Sign, false, 0),
		un("Exp", Exp, false, tolTranscend), un("Log", Log, true, tolTranscend), un("Sqrt", Sqrt, true, tolTranscend),
		un("Rsqrt", Rsqrt, true, tolTranscend), un("Cos", Cos, false, tolTrig), un("Sin", Sin, false, tolTrig),
		un("Tanh", Tanh, false, tolTranscend), un("Logistic", Sigmoid, false, tolTranscend),
		un("Floor", Floor, false, 0), un("Ceil", Ceil, false, 0), un("Round", Round, false, 0),
		un("Erf", Erf, false, 1e-6),
		bin("Add (same shape)", Add, f32(3, 4, 5), false), bin("Sub (broadcast [1,4,1])", Sub, f32(1, 4, 1), false),
		bin("Mul (scalar)", Mul, f32(), false), bin("Div", Div, f32(3, 4, 5), true), bin("Max", Max, f32(3, 1, 5), false),
		bin("Min", Min, f32(3, 4, 5), false), bin("Pow", Pow, f32(3, 4, 5), true),
		{name: "Where(GreaterThan)", inputs: []shapes.Shape{f32(6, 7), f32(6, 7)}, tol: 0,
			fn: func(in []*Node) *Node { return Where(GreaterThan(in[0], in[1]), in[0], Neg(in[1])) }},
		{name: "ConvertDType float→int→float, Equal→float", inputs: []shapes.Shape{f32(5, 9)}, tol: 0,
			fn: func(in []*Node) *Node {
				x := MulScalar(in[0], 10)
				i := ConvertDType(x, dtypes.Int32)
				return Add(ConvertDType(i, dtypes.Float32), ConvertDType(Equal(i, ConvertDType(Floor(x), dtypes.Int32)), dtypes.Float32))
			}},
		{name: "Transpose", inputs: []shapes.Shape{f32(2, 3, 4, 5)}, fn: func(in []*Node) *Node { return TransposeAllDims(in[0], 2, 0, 3, 1) }},
		{name: "BroadcastToDims", inputs: []shapes.Shape{f32(3, 1, 5)}, fn: func(in []*Node) *Node { return BroadcastToDims(in[0], 3, 4, 5) }},
		{name: "Slice with strides", inputs: []shapes.Shape{f32(9, 10)},
			fn: func(in []*Node) *Node { return Slice(in[0], AxisRange(1, 8).Stride(3), AxisRange(2, 10).Stride(2)) }},
		{name: "Concatenate", inputs: []shapes.Shape{f32(4, 2, 3), f32(4, 5, 3)},
			fn: func(in []*Node) *Node { return Concatenate([]*Node{in[0], in[1], in[0]}, 1) }},
		{name: "Iota", inputs: []shapes.Shape{f32(4, 6)},
			fn: func(in []*Node) *Node { return Add(in[0], Iota(in[0].Graph(), f32(4, 6), 1)) }},
		{name: "ReduceSum over axes 0 and 2", inputs: []shapes.Shape{f32(6, 5, 40)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return ReduceSum(in[0], 0, 2) }},
		{name: "ReduceSum over all (4,096 values)", inputs: []shapes.Shape{f32(64, 64)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return ReduceAllSum(in[0]) }},
		{name: "ReduceMax, ReduceMin", inputs: []shapes.Shape{f32(7, 33)},
			fn: func(in []*Node) *Node { return Concatenate([]*Node{ReduceMax(in[0], -1), ReduceMin(in[0], 0)}, 0) }},
		{name: "ArgMax", inputs: []shapes.Shape{f32(9, 10)},
			fn: func(in []*Node) *Node { return ConvertDType(ArgMax(in[0], -1), dtypes.Float32) }},
		{name: "Dot [37×53]·[53×19]", inputs: []shapes.Shape{f32(37, 53), f32(53, 19)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Dot(in[0], in[1]) }},
		{name: "Dot with a long contraction (split in chunks) [9×3000]·[3000×7]", inputs: []shapes.Shape{f32(9, 3000), f32(3000, 7)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Dot(in[0], in[1]) }},
		{name: "Einsum batched, transposed operands", inputs: []shapes.Shape{f32(3, 20, 17), f32(3, 9, 20)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Einsum("bki,bjk->bij", in[0], in[1]) }},
		{name: "Einsum contracting two axes laid out differently (two loops, split)", inputs: []shapes.Shape{f32(30, 20, 9), f32(20, 30, 7)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Einsum("pbc,bpk->ck", in[0], in[1]) }},
		{name: "Gather rows", inputs: []shapes.Shape{f32(10, 6), i32(7, 1)}, intRange: 10,
			fn: func(in []*Node) *Node { return Gather(in[0], in[1]) }},
		{name: "ScatterSum (the gradient of a Gather with repeats)", inputs: []shapes.Shape{f32(4, 6), i32(12, 1)}, intRange: 4, tol: tolElementwise,
			fn: func(in []*Node) *Node {
				return Gradient(ReduceAllSum(Mul(Gather(in[0], in[1]), Iota(in[0].Graph(), f32(12, 6), 0))), in[0])[0]
			}},
		{name: "Transpose of 6,144 values", inputs: []shapes.Shape{f32(8, 12, 8, 8)},
			fn: func(in []*Node) *Node { return TransposeAllDims(in[0], 3, 1, 0, 2) }},
		{name: "Gather and its gradient through constant indices (gather-sum)", inputs: []shapes.Shape{f32(6, 700)}, tol: tolElementwise,
			fn: func(in []*Node) *Node {
				idx := Const(in[0].Graph(), [][]int32{{1}, {4}, {1}, {0}, {5}, {1}, {3}, {4}})
				y := Gather(in[0], idx)
				g := Gradient(ReduceAllSum(Mul(y, Iota(in[0].Graph(), f32(8, 700), 0))), in[0])[0]
				return Concatenate([]*Node{Reshape(y, -1), Reshape(g, -1)}, 0)
			}},
		{name: "Convolution 5×5, same padding (engine lowering)", inputs: []shapes.Shape{f32(2, 12, 12, 3), f32(5, 5, 3, 8)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Convolve(in[0], in[1]).PadSame().Done() }},
		{name: "Convolution 3×3 stride 2, valid", inputs: []shapes.Shape{f32(2, 11, 11, 4), f32(3, 3, 4, 6)}, tol: tolProducts,
			fn: func(in []*Node) *Node { return Convolve(in[0], in[1]).Strides(2).NoPadding().Done() }},
		{name: "Convolution gradients (input and kernel)", inputs: []shapes.Shape{f32(2, 9, 9, 3), f32(3, 3, 3, 5), f32(2, 9, 9, 5)}, tol: tolProducts,
			fn: func(in []*Node) *Node {
				y := Convolve(in[0], in[1]).PadSame().Done()
				g := Gradient(ReduceAllSum(Mul(Tanh(y), in[2])), in[0], in[1])
				return Concatenate([]*Node{Reshape(g[0], -1), Reshape(g[1], -1)}, 0)
			}},
		{name: "MaxPool 2×2 and its gradient", inputs: []shapes.Shape{f32(2, 8, 8, 3), f32(2, 4, 4, 3)}, tol: tolElementwise,
			fn: func(in []*Node) *Node {
				y := MaxPool(in[0]).Window(2).Done()
				g := Gradient(ReduceAllSum(Mul(y, in[1])), in[0])[0]
				return Concatenate([]*Node{Reshape(y, -1), Reshape(g, -1)}, 0)
			}},
		{name: "Softmax cross-entropy gradient", inputs: []shapes.Shape{f32(16, 10), f32(16, 10)}, tol: tolTranscend,
			fn: func(in []*Node) *Node {
				loss := ReduceAllMean(Neg(ReduceSum(Mul(Softmax(in[1]), LogSoftmax(in[0])), -1)))
				return Gradient(loss, in[0])[0]
			}},
	}
	return cases
}

// randomInputs makes a case's inputs.
func randomInputs(c opCase, rng *rand.Rand) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(c.inputs))
	for k, s := range c.inputs {
		if s.DType == dtypes.Int32 {
			v := make([]int32, s.Size())
			for i := range v {
				v[i] = int32(rng.IntN(c.intRange))
			}
			out[k] = tensors.FromFlatDataAndDimensions(v, s.Dimensions...)
			continue
		}
		v := make([]float32, s.Size())
		for i := range v {
			x := rng.NormFloat64()
			if c.positive {
				x = math.Abs(x) + 0.1
			}
			v[i] = float32(x)
		}
		out[k] = tensors.FromFlatDataAndDimensions(v, s.Dimensions...)
	}
	return out
}

// clones are fresh host copies: a GoMLX tensor, once on a backend's device, stays with that backend.
func clones(ts []*tensors.Tensor) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(ts))
	for i, t := range ts {
		out[i], _ = t.LocalClone() // host tensors made by randomInputs: nothing to fail
	}
	return out
}

// run executes fn on backend and returns its output as float64s.
func run(backend backends.Backend, fn func([]*Node) *Node, inputs []*tensors.Tensor) (out []float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	exec, err := NewExec(backend, fn)
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	args := make([]any, len(inputs))
	for i, t := range inputs {
		args[i] = t
	}
	res, err := exec.Exec(args...)
	if err != nil {
		return nil, err
	}
	return floats(res[0])
}

// floats copies a tensor's values out as float64s.
func floats(t *tensors.Tensor) ([]float64, error) {
	var out []float64
	err := t.ConstFlatData(func(flat any) {
		switch f := flat.(type) {
		case []float32:
			out = make([]float64, len(f))
			for i, v := range f {
				out[i] = float64(v)
			}
		case []int32:
			out = make([]float64, len(f))
			for i, v := range f {
				out[i] = float64(v)
			}
		}
	})
	if err == nil && out == nil {
		err = fmt.Errorf("output of dtype %s", t.DType())
	}
	return out, err
}

// maxRelError is max |got − want| / (1 + |want|), +Inf on a length mismatch or a NaN.
func maxRelError(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range got {
		e := math.Abs(got[i]-want[i]) / (1 + math.Abs(want[i]))
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		worst = math.Max(worst, e)
	}
	return worst
}

// CheckOps runs every case on backend and on reference (the pure-Go engine) with the same random
// inputs and compares the outputs.
func CheckOps(backend, reference backends.Backend) []CaseResult {
	rng := rand.New(rand.NewPCG(7, 11))
	var results []CaseResult
	for _, c := range opCases() {
		r := CaseResult{Name: c.name, Tolerance: c.tol}
		inputs := randomInputs(c, rng)
		want, err := run(reference, c.fn, clones(inputs))
		if err == nil {
			var got []float64
			if got, err = run(backend, c.fn, clones(inputs)); err == nil {
				r.MaxError = maxRelError(got, want)
				r.OK = r.MaxError <= c.tol
			}
		}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	return results
}

// GradientCheck compares the backend's gradient of a small convolutional function with central
// finite differences computed on the same backend (float32: step 1e-2, tolerance 1e-2 relative),
// so the GPU's gradients are checked on their own, not only against the engine's.
func GradientCheck(backend backends.Backend) CaseResult {
	r := CaseResult{Name: "gradient of a conv-tanh-pool function by central differences", Tolerance: 1e-2}
	rng := rand.New(rand.NewPCG(3, 5))
	x := randomInputs(opCase{inputs: []shapes.Shape{f32(1, 6, 6, 2)}}, rng)[0]
	k := randomInputs(opCase{inputs: []shapes.Shape{f32(3, 3, 2, 3)}}, rng)[0]
	f := func(x, k *Node) *Node {
		y := Tanh(Convolve(x, k).PadSame().Done())
		return ReduceAllSum(MaxPool(Mul(y, y)).Window(2).Done())
	}
	grad, err := run(backend, func(in []*Node) *Node { return Gradient(f(in[0], in[1]), in[1])[0] }, []*tensors.Tensor{x, k})
	if err != nil {
		r.Error = err.Error()
		return r
	}
	kv, _ := floats(k)
	const h = 1e-2
	exec, err := NewExec(backend, func(in []*Node) *Node { return f(in[0], in[1]) })
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer exec.Finalize()
	at := func(i int, delta float64) (float64, error) {
		v := make([]float32, len(kv))
		for j := range v {
			v[j] = float32(kv[j])
		}
		v[i] += float32(delta)
		res, err := exec.Exec(x, tensors.FromFlatDataAndDimensions(v, 3, 3, 2, 3))
		if err != nil {
			return 0, err
		}
		out, err := floats(res[0])
		if err != nil {
			return 0, err
		}
		return out[0], nil
	}
	for i := range kv {
		plus, err1 := at(i, h)
		minus, err2 := at(i, -h)
		if err1 != nil || err2 != nil {
			r.Error = fmt.Sprint(err1, err2)
			return r
		}
		fd := (plus - minus) / (2 * h)
		r.MaxError = math.Max(r.MaxError, math.Abs(fd-grad[i])/(1+math.Abs(fd)))
	}
	r.OK = r.MaxError <= r.Tolerance
	return r
}

// Timing is the mean time of a function after a warm-up run.
func Timing(reps int, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	start := time.Now()
	for range reps {
		if err := f(); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / time.Duration(reps), nil
}

// DispatchCost measures what one more dispatch costs on backend: a chain of 65 reductions (each its
// own kernel) against a single one, both read back, per extra dispatch.
func DispatchCost(backend backends.Backend) (float64, error) {
	chain := func(n int) func(in []*Node) *Node {
		return func(in []*Node) *Node {
			x := in[0]
			for range n {
				x = ReduceSum(Reshape(x, 8, 1), 1)
			}
			return x
		}
	}
	x := tensors.FromFlatDataAndDimensions(make([]float32, 8), 8)
	var ms [2]float64
	for k, n := range []int{1, 65} {
		exec, err := NewExec(backend, chain(n))
		if err != nil {
			return 0, err
		}
		d, err := Timing(20, func() error {
			res, err := exec.Exec(x)
			if err == nil {
				_, err = floats(res[0])
			}
			return err
		})
		exec.Finalize()
		if err != nil {
			return 0, err
		}
		ms[k] = float64(d.Microseconds()) / 1000
	}
	return (ms[1] - ms[0]) / 64, nil
}
