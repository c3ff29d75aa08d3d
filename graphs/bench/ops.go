package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// OpCase is one op timed next to the plain matrix product with the same multiply-add count, so each
// op's speed reads as a fraction of the backend's own matrix-product speed.
type OpCase struct {
	Name   string
	FLOPs  float64
	inputs [][]int
	fn     func(xs []*Node) *Node
}

// OpCases returns the ops measured by `mnistzip bench`: the W2 middle convolution (forward, and
// forward+both gradients), the W1 first dense layer's gradient, and their matrix-product twins.
func OpCases() []OpCase {
	const b = 64
	convMACs := float64(b * 14 * 14 * 9 * 32 * 64)
	denseMACs := float64(128 * 784 * 512)
	conv := func(xs []*Node) *Node { return Convolve(xs[0], xs[1]).Strides(2).PadSame().Done() }
	return []OpCase{
		{Name: "matmul [12544×288]·[288×64]", FLOPs: 2 * convMACs, inputs: [][]int{{b * 196, 288}, {288, 64}},
			fn: func(xs []*Node) *Node { return Dot(xs[0], xs[1]) }},
		{Name: "conv3×3/2 64×28×28×32→64 forward", FLOPs: 2 * convMACs, inputs: [][]int{{b, 28, 28, 32}, {3, 3, 32, 64}}, fn: conv},
		{Name: "conv3×3/2 forward+dx+dkernel", FLOPs: 6 * convMACs, inputs: [][]int{{b, 28, 28, 32}, {3, 3, 32, 64}},
			fn: func(xs []*Node) *Node {
				y := conv(xs)
				grads := Gradient(ReduceAllSum(Mul(y, y)), xs...)
				return Add(ReduceAllSum(grads[0]), ReduceAllSum(grads[1]))
			}},
		{Name: "matmul [128×784]·[784×512]", FLOPs: 2 * denseMACs, inputs: [][]int{{128, 784}, {784, 512}},
			fn: func(xs []*Node) *Node { return Dot(xs[0], xs[1]) }},
		{Name: "dense 784→512 forward+dx+dW", FLOPs: 6 * denseMACs, inputs: [][]int{{128, 784}, {784, 512}},
			fn: func(xs []*Node) *Node {
				y := Dot(xs[0], xs[1])
				grads := Gradient(ReduceAllSum(Mul(y, y)), xs...)
				return Add(ReduceAllSum(grads[0]), ReduceAllSum(grads[1]))
			}},
	}
}

// TimeOp compiles the op once and runs it until minTime has passed; returns seconds per call.
func TimeOp(backend backends.Backend, c OpCase, minTime time.Duration) (secs float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	exec, err := NewExecAny(backend, func(xs []*Node) *Node { return c.fn(xs) })
	if err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	args := make([]any, len(c.inputs))
	for i, dims := range c.inputs {
		args[i] = randTensor(rng, dims)
	}
	if _, err := exec.Exec(args...); err != nil { // compile + warm up
		return 0, err
	}
	start, n := time.Now(), 0
	for n < 2 || time.Since(start) < minTime {
		out, err := exec.Exec(args...)
		if err != nil {
			return 0, err
		}
		out[0].FinalizeAll()
		n++
	}
	return time.Since(start).Seconds() / float64(n), nil
}

func randTensor(rng *rand.Rand, dims []int) *tensors.Tensor {
	size := 1
	for _, d := range dims {
		size *= d
	}
	data := make([]float32, size)
	for i := range data {
		data[i] = rng.Float32()*2 - 1
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}
