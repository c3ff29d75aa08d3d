package engine

import (
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX's gradient of a strided convolution with respect to its input is a convolution whose input
// (the output gradient) is dilated by the stride. XLA's CPU backend runs input-dilated convolutions
// through its generic loop emitter instead of its Eigen/oneDNN kernels: measured with the xla-cpu-pjrt
// plugin, that gradient of the paper CapsNet's 9×9/2 primary-capsule convolution (batch 16, 256 → 256
// channels) took 4.67 s, against 34 ms for the forward and 75 ms for the kernel gradient — 93% of the
// training step.
//
// The same gradient splits into stride phases (sub-pixel, as in the sub-pixel autoencoder): along each
// spatial axis with stride s, input position i = s·m + p only receives the kernel taps k ≡ p (mod s), so
//
//	dx[s·m + p] = Σ_j dy[m − j] · kernel[s·j + p]
//
// is, for each phase p, an ordinary stride-1 convolution of dy with the flipped sub-kernel
// kernel[p::s]. All s^rank phases run as one stride-1 convolution with s^rank·Cin output channels,
// and a depth-to-space interleave puts them back in place. No multiplication touches an inserted zero
// except the ⌈K/s⌉·s − K padding taps of the sub-kernels.

// convPhasesVJP returns the input and kernel gradients of a strided convolution for backends other
// than the engine: the input gradient by stride phases, the kernel gradient GoMLX's own (a window-
// dilated convolution, which XLA runs at full speed). Convolutions it does not cover (no stride, input
// or kernel dilation, groups) get GoMLX's stock gradients.
func convPhasesVJP(node *Node, vs []*Node, outputShape shapes.Shape) []*Node {
	stock := stockVJP[NodeTypeConvGeneral](node, vs, outputShape)
	p := readConvParams(node).withDefaults()
	strided := false
	for r := range p.strides {
		if p.inputDilations[r] != 1 || p.kDilation[r] != 1 {
			return stock
		}
		strided = strided || p.strides[r] > 1
	}
	if !strided || p.channelGroups > 1 || p.batchGroups > 1 {
		return stock
	}
	for _, pad := range p.paddings {
		if pad[0] < 0 || pad[1] < 0 { // negative padding crops the input: left to GoMLX's gradient
			return stock
		}
	}
	x, kernel := node.Inputs()[0], node.Inputs()[1]
	// The stock input gradient is left unused; XLA's dead-code elimination drops it before compiling.
	return []*Node{convInputGradByPhases(x, kernel, vs[0], p), stock[1]}
}

// convInputGradByPhases computes the gradient of a strided convolution (no dilations, no groups) with
// respect to its input x, given the output gradient v.
func convInputGradByPhases(x, kernel, v *Node, p convParams) *Node {
	axes := p.axes
	rank := len(axes.InputSpatial)
	xd, kd := x.Shape().Dimensions, kernel.Shape().Dimensions
	cin, cout := xd[axes.InputChannels], kd[axes.KernelOutputChannels]
	g := x.Graph()

	// Canonical layouts: dy [batch, out spatial..., cout], kernel [k spatial..., cin, cout].
	dy := TransposeAllAxes(v, append(append([]int{axes.OutputBatch}, axes.OutputSpatial...), axes.OutputChannels)...)
	k := TransposeAllAxes(kernel, append(append(append([]int{}, axes.KernelSpatial...), axes.KernelInputChannels), axes.KernelOutputChannels)...)

	n, kSize, s, taps, m, outLen := make([]int, rank), make([]int, rank), p.strides, make([]int, rank), make([]int, rank), make([]int, rank)
	kPad := make([]backends.PadAxis, rank+2)
	for r := range rank {
		n[r], kSize[r] = xd[axes.InputSpatial[r]], kd[axes.KernelSpatial[r]]
		padded := n[r] + p.paddings[r][0] + p.paddings[r][1]
		taps[r] = (kSize[r] + s[r] - 1) / s[r] // sub-kernel length ⌈K/s⌉
		m[r] = (padded + s[r] - 1) / s[r]      // phase length ⌈padded/s⌉
		outLen[r] = dy.Shape().Dimensions[1+r]
		kPad[r] = backends.PadAxis{End: taps[r]*s[r] - kSize[r]}
	}
	k = Pad(k, ScalarZero(g, k.DType()), kPad...)

	// [taps₁, s₁, taps₂, s₂, ..., cin, cout] → flip the taps → [taps..., cout, s..., cin].
	split := make([]int, 0, 2*rank+2)
	for r := range rank {
		split = append(split, taps[r], s[r])
	}
	k = Reshape(k, append(split, cin, cout)...)
	tapAxes, phaseAxes := make([]int, rank), make([]int, rank)
	for r := range rank {
		tapAxes[r], phaseAxes[r] = 2*r, 2*r+1
	}
	k = Reverse(k, tapAxes...)
	perm := append(append(append(slices.Clone(tapAxes), 2*rank+1), phaseAxes...), 2*rank)
	k = TransposeAllAxes(k, perm...)
	phases := 1
	for r := range rank {
		phases *= s[r]
	}
	k = Reshape(k, append(slices.Clone(taps), cout, phases*cin)...)

	// One stride-1 convolution: padding taps−1 before, m−outLen after, so each phase has m positions.
	pads := make([][2]int, rank)
	for r := range rank {
		pads[r] = [2]int{taps[r] - 1, m[r] - outLen[r]}
	}
	dx := Convolve(dy, k).PaddingPerDim(pads).Done() // [batch, m..., phases·cin]

	// Depth to space: [batch, m₁, ..., s₁, ..., cin] → [batch, m₁, s₁, m₂, s₂, ..., cin].
	batch := xd[axes.InputBatch]
	dx = Reshape(dx, append(append(append([]int{batch}, m...), s...), cin)...)
	perm = []int{0}
	for r := range rank {
		perm = append(perm, 1+r, 1+rank+r)
	}
	dx = TransposeAllAxes(dx, append(perm, 1+2*rank)...)
	full := []int{batch}
	for r := range rank {
		full = append(full, m[r]*s[r])
	}
	dx = Reshape(dx, append(full, cin)...)

	// Crop the forward's padding (and the phase grid's overhang) off.
	specs := []SliceAxisSpec{AxisRange()}
	for r := range rank {
		specs = append(specs, AxisRange(p.paddings[r][0], p.paddings[r][0]+n[r]))
	}
	dx = Slice(dx, append(specs, AxisRange())...)

	// Back to x's layout from [batch, spatial..., cin].
	xPerm := make([]int, rank+2)
	xPerm[axes.InputBatch] = 0
	for r, a := range axes.InputSpatial {
		xPerm[a] = r + 1
	}
	xPerm[axes.InputChannels] = rank + 1
	return TransposeAllAxes(dx, xPerm...)
}

// withDefaults fills the parameters GoMLX leaves empty when they take their defaults (stride,
// dilations 1, padding 0 on every spatial axis).
func (p convParams) withDefaults() convParams {
	rank := len(p.axes.InputSpatial)
	ones := func(v []int) []int {
		if len(v) == rank {
			return v
		}
		out := make([]int, rank)
		for r := range out {
			out[r] = 1
		}
		return out
	}
	p.strides, p.inputDilations, p.kDilation = ones(p.strides), ones(p.inputDilations), ones(p.kDilation)
	if len(p.paddings) != rank {
		p.paddings = make([][2]int, rank)
	}
	return p
}
