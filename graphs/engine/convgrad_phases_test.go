package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	timage "github.com/gomlx/gomlx/pkg/core/tensors/images"
)

// TestConvInputGradByPhases checks the stride-phase input gradient (used on XLA) against the
// engine's own gradient of the same convolution, itself checked against finite differences in
// TestConvolution: strides 2 and 3, per-axis strides, kernels shorter and longer than the stride,
// kernel sizes not divisible by the stride, padding same and valid, 1-D, 3-D and channels-first.
func TestConvInputGradByPhases(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		in      []int // batch, spatial..., channels (channels-last) or batch, channels, spatial...
		kernel  []int // spatial...
		strides []int
		out     int
		same    bool
		first   bool // channels first
	}{
		{[]int{2, 20, 20, 3}, []int{9, 9}, []int{2, 2}, 4, false, false}, // CapsNet primary capsules, shrunk
		{[]int{2, 8, 7, 2}, []int{3, 3}, []int{2, 2}, 3, true, false},
		{[]int{1, 11, 10, 2}, []int{3, 3}, []int{3, 3}, 2, true, false},
		{[]int{1, 10, 9, 2}, []int{2, 5}, []int{2, 3}, 2, false, false},
		{[]int{2, 9, 9, 1}, []int{1, 1}, []int{2, 2}, 3, false, false}, // kernel shorter than the stride
		{[]int{2, 13, 3}, []int{4}, []int{3}, 2, true, false},          // 1-D
		{[]int{1, 6, 5, 7, 2}, []int{3, 2, 3}, []int{2, 1, 2}, 2, true, false},
		{[]int{2, 3, 9, 8}, []int{3, 3}, []int{2, 2}, 2, true, true},
		{[]int{2, 8, 8, 2}, []int{4, 4}, []int{2, 2}, 3, true, false}, // even kernel: GoMLX's own gradient is wrong here
	}
	for _, tc := range cases {
		name := fmt.Sprintf("in%v_k%v_s%v_o%d_same%v_first%v", tc.in, tc.kernel, tc.strides, tc.out, tc.same, tc.first)
		t.Run(name, func(t *testing.T) {
			cin := tc.in[len(tc.in)-1]
			if tc.first {
				cin = tc.in[1]
			}
			x := randArray(rng, tc.in...)
			k := randArray(rng, append(append(append([]int{}, tc.kernel...), cin), tc.out)...)
			conv := func(x, k *Node) *Node {
				c := Convolve(x, k).StridePerAxis(tc.strides...)
				if tc.first {
					c = c.ChannelsAxis(timage.ChannelsFirst)
				}
				if tc.same {
					c = c.PadSame()
				} else {
					c = c.NoPadding()
				}
				return c.Done()
			}
			y := run(t, func(in []*Node) *Node { return conv(in[0], in[1]) }, x, k)
			v := randArray(rng, y.Dims...)
			want := run(t, func(in []*Node) *Node {
				return Gradient(ReduceAllSum(Mul(conv(in[0], in[1]), in[2])), in[0])[0]
			}, x, k, v)
			got := run(t, func(in []*Node) *Node {
				node := conv(in[0], in[1])
				if node.Type() != NodeTypeConvGeneral {
					t.Fatalf("Convolve built %s, not a ConvGeneral node", node.Type())
				}
				return convInputGradByPhases(in[0], in[1], in[2], readConvParams(node).withDefaults())
			}, x, k, v)
			checkClose(t, name, got, want, 1e-12)
		})
	}
}
