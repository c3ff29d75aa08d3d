package engine

import (
	"reflect"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX's gradient of a strided convolution with respect to its input is a convolution over the output
// gradient dilated by the stride: on an im2col engine three quarters of that work (for stride 2)
// multiplies inserted zeros. Here both gradients reuse the forward's window table instead:
//
//	patches[p, w, b, c] = x[b, table[p, w], c]                      (one Gather, as in the forward)
//	dKernel[w, c, o]    = Σ_{p,b} patches[p, w, b, c] · dy[b, p, o]  (one matrix product)
//	dPatches[b, p, w, c] = Σ_o dy[b, p, o] · kernel[w, c, o]         (one matrix product)
//	dx[b, s, c]         = Σ_{table[p, w] = s} dPatches[b, p, w, c]   (one ScatterSum, Gather's adjoint)

type convParams struct {
	axes                               backends.ConvolveAxesConfig
	strides, inputDilations, kDilation []int
	paddings                           [][2]int
	channelGroups, batchGroups         int
}

// readConvParams reads a ConvGeneral node's parameters (see nodeIntsParam for why reflection).
func readConvParams(node *Node) convParams {
	params := reflect.ValueOf(node).Elem().FieldByName("inputs").Elem().Elem()
	axes := params.FieldByName("axes")
	ints := func(v reflect.Value) []int {
		out := make([]int, v.Len())
		for i := range out {
			out[i] = int(v.Index(i).Int())
		}
		return out
	}
	p := convParams{
		axes: backends.ConvolveAxesConfig{
			InputBatch: int(axes.FieldByName("InputBatch").Int()), InputChannels: int(axes.FieldByName("InputChannels").Int()),
			InputSpatial:        ints(axes.FieldByName("InputSpatial")),
			KernelInputChannels: int(axes.FieldByName("KernelInputChannels").Int()), KernelOutputChannels: int(axes.FieldByName("KernelOutputChannels").Int()),
			KernelSpatial: ints(axes.FieldByName("KernelSpatial")),
			OutputBatch:   int(axes.FieldByName("OutputBatch").Int()), OutputChannels: int(axes.FieldByName("OutputChannels").Int()),
			OutputSpatial: ints(axes.FieldByName("OutputSpatial")),
		},
		strides:        ints(params.FieldByName("strides")),
		inputDilations: ints(params.FieldByName("inputDilations")),
		kDilation:      ints(params.FieldByName("kernelDilations")),
		channelGroups:  int(params.FieldByName("channelGroupCount").Int()),
		batchGroups:    int(params.FieldByName("batchGroupCount").Int()),
	}
	pads := params.FieldByName("paddings")
	for i := range pads.Len() {
		p.paddings = append(p.paddings, [2]int{int(pads.Index(i).Index(0).Int()), int(pads.Index(i).Index(1).Int())})
	}
	return p
}

func convGeneralVJP(node *Node, vs []*Node, outputShape shapes.Shape) []*Node {
	p := readConvParams(node)
	for _, d := range p.inputDilations {
		if d != 1 {
			return stockVJP[NodeTypeConvGeneral](node, vs, outputShape)
		}
	}
	if p.channelGroups > 1 || p.batchGroups > 1 {
		return stockVJP[NodeTypeConvGeneral](node, vs, outputShape)
	}
	x, kernel, v := node.Inputs()[0], node.Inputs()[1], vs[0]
	axes := p.axes
	rank := len(axes.InputSpatial)
	xd, kd := x.Shape().Dimensions, kernel.Shape().Dimensions
	batch, channels, outChannels := xd[axes.InputBatch], xd[axes.InputChannels], kd[axes.KernelOutputChannels]
	inDims, kDims := make([]int, rank), make([]int, rank)
	for r := range rank {
		inDims[r], kDims[r] = xd[axes.InputSpatial[r]], kd[axes.KernelSpatial[r]]
	}
	table, err := newWindowTable(inDims, kDims, p.strides, p.paddings, nil, p.kDilation)
	if err != nil {
		panic(err)
	}
	if table.multiplyFirst(channels, outChannels, nil) {
		return convMultiplyFirstVJP(x, kernel, v, axes, table, batch, channels, outChannels, inDims, kDims)
	}
	P, W, S := table.numOut, table.numWindow, table.numIn
	g := x.Graph()
	indices := Reshape(Const(g, table.index), P*W, 1)

	// x → [S+1, batch·channels] with a zero row for padding; patches [P, W, batch, channels].
	xs := TransposeAllAxes(x, append(append(append([]int{}, axes.InputSpatial...), axes.InputBatch), axes.InputChannels)...)
	xs = Reshape(xs, S, batch*channels)
	xs = Concatenate([]*Node{xs, ZerosLike(Slice(xs, AxisRange(0, 1)))}, 0)
	patches := Reshape(Gather(xs, indices), P, W, batch, channels)

	// dy → [batch, P, outChannels].
	dy := TransposeAllAxes(v, append(append([]int{axes.OutputBatch}, axes.OutputSpatial...), axes.OutputChannels)...)
	dy = Reshape(dy, batch, P, outChannels)

	// Kernel gradient [W, channels, outChannels] → kernel layout.
	dK := DotGeneral(patches, []int{0, 2}, nil, dy, []int{1, 0}, nil)
	dK = Reshape(dK, append(append(append([]int{}, kDims...), channels), outChannels)...)
	kPerm := make([]int, rank+2) // from [spatial..., in, out] to the kernel's own layout
	for r, a := range axes.KernelSpatial {
		kPerm[a] = r
	}
	kPerm[axes.KernelInputChannels], kPerm[axes.KernelOutputChannels] = rank, rank+1
	dK = TransposeAllAxes(dK, kPerm...)

	// Input gradient: dPatches [batch, P, W, channels] → [P·W, batch·channels] → ScatterSum.
	k := TransposeAllAxes(kernel, append(append(append([]int{}, axes.KernelSpatial...), axes.KernelInputChannels), axes.KernelOutputChannels)...)
	k = Reshape(k, W, channels, outChannels)
	dPatches := DotGeneral(dy, []int{2}, nil, k, []int{2}, nil) // [batch, P, W, channels]
	dPatches = Reshape(TransposeAllAxes(dPatches, 1, 2, 0, 3), P*W, batch*channels)
	dx := Scatter(indices, dPatches, shapes.Make(x.DType(), S+1, batch*channels), false, false)
	dx = Slice(dx, AxisRange(0, S))
	dx = Reshape(dx, append(append(append([]int{}, inDims...), batch), channels)...)
	xPerm := make([]int, rank+2) // from [spatial..., batch, channels] to x's layout
	for r, a := range axes.InputSpatial {
		xPerm[a] = r
	}
	xPerm[axes.InputBatch], xPerm[axes.InputChannels] = rank, rank+1
	dx = TransposeAllAxes(dx, xPerm...)
	return []*Node{dx, dK}
}

// convMultiplyFirstVJP is the gradient of a convolution the forward computed multiply-first
// (windowTable.multiplyFirst): with z[b, s, w, o] = Σ_c x[b, s, c]·kernel[w, c, o] and
// y[b, p, o] = Σ_w z[b, table[p, w], w, o],
//
//	dz[b, s, w, o] = dy[b, inverse[s, w], o]     (one Gather: each (input, tap) feeds at most one output)
//	dx[b, s, c]    = Σ_{w,o} dz[b, s, w, o]·kernel[w, c, o]  (one matrix product)
//	dKernel[c, w, o] = Σ_{b,s} x[b, s, c]·dz[b, s, w, o]      (one matrix product)
//
// which gathers numWindow·outChannels values per input position where the im2col gradient gathers and
// scatters numWindow·channels.
func convMultiplyFirstVJP(x, kernel, v *Node, axes backends.ConvolveAxesConfig, table *windowTable,
	batch, channels, outChannels int, inDims, kDims []int) []*Node {
	rank := len(inDims)
	P, W, S := table.numOut, table.numWindow, table.numIn
	g := x.Graph()
	x2 := TransposeAllAxes(x, append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)...)
	x2 = Reshape(x2, batch*S, channels)
	k2 := TransposeAllAxes(kernel, append(append([]int{axes.KernelInputChannels}, axes.KernelSpatial...), axes.KernelOutputChannels)...)
	k2 = Reshape(k2, channels, W*outChannels)

	// dy → [batch, P + 1, outChannels], the last row zero for the (input, tap) pairs no output reads.
	dy := TransposeAllAxes(v, append(append([]int{axes.OutputBatch}, axes.OutputSpatial...), axes.OutputChannels)...)
	dy = Reshape(dy, batch, P, outChannels)
	dy = Concatenate([]*Node{dy, Zeros(g, shapes.Make(dy.DType(), batch, 1, outChannels))}, 1)
	inverse := Reshape(Const(g, table.inverse()), S*W, 1)
	dz := BackendGather(dy, inverse, 1, []int{0, 2}, []int{1}, []int{1}, []int{batch, 1, outChannels}, false)
	dz = Reshape(dz, batch*S, W*outChannels)

	dx := DotGeneral(dz, []int{1}, nil, k2, []int{1}, nil) // [batch·S, channels]
	dx = Reshape(dx, append(append([]int{batch}, inDims...), channels)...)
	xPerm := make([]int, rank+2) // from [batch, spatial..., channels] to x's layout
	xPerm[axes.InputBatch] = 0
	for r, a := range axes.InputSpatial {
		xPerm[a] = r + 1
	}
	xPerm[axes.InputChannels] = rank + 1
	dx = TransposeAllAxes(dx, xPerm...)

	dK := contractRowsParallel(x2, dz) // [channels, W·outChannels]
	dK = Reshape(dK, append(append([]int{channels}, kDims...), outChannels)...)
	kPerm := make([]int, rank+2) // from [in, spatial..., out] to the kernel's own layout
	kPerm[axes.KernelInputChannels] = 0
	for r, a := range axes.KernelSpatial {
		kPerm[a] = r + 1
	}
	kPerm[axes.KernelOutputChannels] = rank + 1
	dK = TransposeAllAxes(dK, kPerm...)
	return []*Node{dx, dK}
}

// rowGroups is how many groups contractRowsParallel splits the rows into: enough for 8 cores.
const rowGroups = 8

// contractRowsParallel returns aᵀ·b for a [rows, m] and b [rows, n] with small m·n (a kernel gradient:
// rows = batch × positions, tens of thousands). simplego runs products this small with its unblocked
// kernel, parallel only over the batch axis, of which this has none: one core did all of it. Splitting
// the rows into groups as a batch axis, then summing the groups' [m, n] results, spreads it over the cores.
func contractRowsParallel(a, b *Node) *Node {
	rows := a.Shape().Dimensions[0]
	g := rowGroups
	for g > 1 && rows%g != 0 {
		g /= 2
	}
	if g <= 1 {
		return DotGeneral(a, []int{0}, nil, b, []int{0}, nil)
	}
	m, n := a.Shape().Dimensions[1], b.Shape().Dimensions[1]
	a3, b3 := Reshape(a, g, rows/g, m), Reshape(b, g, rows/g, n)
	return ReduceSum(DotGeneral(a3, []int{1}, []int{0}, b3, []int{1}, []int{0}), 0)
}
