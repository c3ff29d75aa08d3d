package webgpu

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

var errNotImplemented = errors.New("not implemented on WebGPU")

// wordType is the WGSL type of n's values; raw 64-bit words (the RNG state) only pass through.
func wordType(opName string, n *node) (string, error) {
	t, err := deviceType(n.shape.DType)
	if err != nil {
		return "", err
	}
	if t == "" {
		return "", fmt.Errorf("webgpu %s: %s values only pass through the GPU", opName, n.shape.DType)
	}
	return t, nil
}

// copyRead adds a node whose value i is x[offset + Σ coordinate(i)·stride].
func (b *Builder) copyRead(op backends.OpType, x *node, shape shapes.Shape, stride []int, offset int) (*node, error) {
	t, err := wordType(op.String(), x)
	if err != nil {
		return nil, err
	}
	out, err := b.add(op, shape, x)
	if err != nil {
		return nil, err
	}
	out.view = &view{src: x, strides: stride, offset: offset}
	out.dispatches = []dispatch{{source: copyReadSource(t, shape.Dimensions, stride, offset), reads: []*node{x},
		params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

func (b *Builder) Transpose(x backends.Op, permutation ...int) (backends.Op, error) {
	n, err := b.nodeOf("Transpose", x)
	if err != nil {
		return nil, err
	}
	return b.transpose(n, permutation)
}

func (b *Builder) transpose(n *node, permutation []int) (*node, error) {
	shape, err := shapeinference.TransposeOp(n.shape, permutation)
	if err != nil {
		return nil, err
	}
	if identityPerm(permutation) {
		return b.aliasOf(backends.OpTypeTranspose, n, shape)
	}
	in := strides(n.shape.Dimensions)
	s := make([]int, len(permutation))
	for d, p := range permutation {
		s[d] = in[p]
	}
	return b.copyRead(backends.OpTypeTranspose, n, shape, s, 0)
}

func (b *Builder) BroadcastInDim(x backends.Op, outputShape shapes.Shape, broadcastAxes []int) (backends.Op, error) {
	n, err := b.nodeOf("BroadcastInDim", x)
	if err != nil {
		return nil, err
	}
	if err := shapeinference.BroadcastInDimOp(n.shape, outputShape, broadcastAxes); err != nil {
		return nil, err
	}
	in := strides(n.shape.Dimensions)
	s := make([]int, outputShape.Rank())
	for i, axis := range broadcastAxes {
		if n.shape.Dimensions[i] != 1 {
			s[axis] = in[i]
		}
	}
	return b.copyRead(backends.OpTypeBroadcastInDim, n, outputShape, s, 0)
}

func (b *Builder) Broadcast(x backends.Op, prefixDims ...int) (backends.Op, error) {
	n, err := b.nodeOf("Broadcast", x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.BroadcastOp(n.shape, prefixDims)
	if err != nil {
		return nil, err
	}
	s := append(make([]int, len(prefixDims)), strides(n.shape.Dimensions)...)
	return b.copyRead(backends.OpTypeBroadcast, n, shape, s, 0)
}

func (b *Builder) Slice(x backends.Op, starts, limits, steps []int) (backends.Op, error) {
	n, err := b.nodeOf("Slice", x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.SliceOp(n.shape, starts, limits, steps)
	if err != nil {
		return nil, err
	}
	in := strides(n.shape.Dimensions)
	s := make([]int, len(in))
	offset := 0
	for d := range in {
		step := 1
		if len(steps) > 0 {
			step = steps[d]
		}
		s[d] = in[d] * step
		offset += starts[d] * in[d]
	}
	return b.copyRead(backends.OpTypeSlice, n, shape, s, offset)
}

func (b *Builder) Concatenate(axis int, operands ...backends.Op) (backends.Op, error) {
	ns, err := b.nodesOf("Concatenate", operands...)
	if err != nil {
		return nil, err
	}
	inShapes := make([]shapes.Shape, len(ns))
	for i, n := range ns {
		inShapes[i] = n.shape
	}
	shape, err := shapeinference.ConcatenateOp(inShapes, axis)
	if err != nil {
		return nil, err
	}
	t, err := wordType("Concatenate", ns[0])
	if err != nil {
		return nil, err
	}
	out, err := b.add(backends.OpTypeConcatenate, shape, ns...)
	if err != nil {
		return nil, err
	}
	if len(ns) <= maxFusedInputs {
		// One dispatch over the output, each value taken from the operand its coordinate falls in.
		outer, inner := product(shape.Dimensions[:axis]), product(shape.Dimensions[axis+1:])
		dims := make([]int, len(ns))
		for k, n := range ns {
			dims[k] = n.shape.Dimensions[axis]
		}
		out.dispatches = []dispatch{{source: concatSource(t, len(ns), outer, shape.Dimensions[axis], inner, dims),
			reads: ns, params: u32s(shape.Size()), threads: shape.Size()}}
		return out, nil
	}
	outStrides := strides(shape.Dimensions)
	at := 0
	for _, n := range ns {
		if n.shape.Size() > 0 {
			out.dispatches = append(out.dispatches, dispatch{source: copyWriteSource(t, n.shape.Dimensions, outStrides, at*outStrides[axis]),
				reads: []*node{n}, params: u32s(n.shape.Size()), threads: n.shape.Size()})
		}
		at += n.shape.Dimensions[axis]
	}
	return out, nil
}

func (b *Builder) Iota(shape shapes.Shape, iotaAxis int) (backends.Op, error) {
	if iotaAxis < 0 || iotaAxis >= shape.Rank() {
		return nil, fmt.Errorf("webgpu Iota: axis %d of %s", iotaAxis, shape)
	}
	t, err := deviceType(shape.DType)
	if err != nil || t == "" {
		return nil, fmt.Errorf("webgpu Iota: dtype %s not supported", shape.DType)
	}
	out, err := b.add(backends.OpTypeIota, shape)
	if err != nil {
		return nil, err
	}
	out.dispatches = []dispatch{{source: iotaSource(t, strides(shape.Dimensions)[iotaAxis], shape.Dimensions[iotaAxis], shape.Size()),
		params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

// keptAndReduced splits x's axes into kept (dims, strides) and reduced ones; adjacent reduced axes
// merge into one (a reduction over the last axes becomes one contiguous run).
func keptAndReduced(dims []int, axes []int) (keptDims, keptStrides, redDims, redStrides []int) {
	s := strides(dims)
	for d := range dims {
		if !slices.Contains(axes, d) {
			keptDims, keptStrides = append(keptDims, dims[d]), append(keptStrides, s[d])
			continue
		}
		if last := len(redDims) - 1; last >= 0 && d > 0 && slices.Contains(axes, d-1) {
			redDims[last] *= dims[d]
			redStrides[last] = s[d]
			continue
		}
		redDims, redStrides = append(redDims, dims[d]), append(redStrides, s[d])
	}
	return
}

func (b *Builder) reduce(op backends.OpType, x backends.Op, axes []int) (backends.Op, error) {
	n, err := b.nodeOf(op.String(), x)
	if err != nil {
		return nil, err
	}
	if len(axes) == 0 { // GoMLX's convention: no axes means all of them
		for a := range n.shape.Rank() {
			axes = append(axes, a)
		}
	}
	shape, err := shapeinference.ReduceOp(n.shape, axes)
	if err != nil {
		return nil, err
	}
	t, err := wordType(op.String(), n)
	if err != nil {
		return nil, err
	}
	init, combine, err := reduction(op, t)
	if err != nil {
		return nil, err
	}
	out, err := b.add(op, shape, n)
	if err != nil {
		return nil, err
	}
	kd, ks, rd, rs := keptAndReduced(n.shape.Dimensions, axes)
	out.dispatches = []dispatch{{source: reduceSource(t, init, combine, kd, ks, rd, rs), reads: []*node{n},
		params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

// reduction is the initial value and the combining expression (of acc and v) of a reduction.
func reduction(op backends.OpType, t string) (init, combine string, err error) {
	inits := map[string][2]string{ // lowest, highest
		// ∓Inf from a runtime value: WGSL rejects infinite constants.
		"f32": {"bitcast<f32>(0xff800000u | (p[0] & 0u))", "bitcast<f32>(0x7f800000u | (p[0] & 0u))"},
		"i32": {"i32(-2147483647) - 1", "2147483647"},
		"u32": {"0u", "0xffffffffu"},
	}[t]
	switch op {
	case backends.OpTypeReduceSum:
		init, combine = t+"(0)", "acc + v"
	case backends.OpTypeReduceProduct:
		init, combine = t+"(1)", "acc * v"
	case backends.OpTypeReduceMax:
		init, combine = inits[0], "max(acc, v)"
	case backends.OpTypeReduceMin:
		init, combine = inits[1], "min(acc, v)"
	case backends.OpTypeReduceLogicalAnd, backends.OpTypeReduceBitwiseAnd:
		init, combine = inits[1], "acc & v"
		if op == backends.OpTypeReduceLogicalAnd {
			init = "1u"
		}
	case backends.OpTypeReduceLogicalOr, backends.OpTypeReduceBitwiseOr:
		init, combine = t+"(0)", "acc | v"
	default:
		return "", "", fmt.Errorf("webgpu %s: %w", op, errNotImplemented)
	}
	if t == "f32" && (combine == "acc & v" || combine == "acc | v") {
		return "", "", fmt.Errorf("webgpu %s on floats", op)
	}
	return init, combine, nil
}

func (b *Builder) ReduceWindow(x backends.Op, reductionType backends.ReduceOpType, windowDimensions, windowStrides,
	baseDilations, windowDilations []int, paddings [][2]int) (backends.Op, error) {
	n, err := b.nodeOf("ReduceWindow", x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.ReduceWindowOp(n.shape, windowDimensions, windowStrides, baseDilations, windowDilations, paddings)
	if err != nil {
		return nil, err
	}
	for _, d := range baseDilations {
		if d != 1 {
			return nil, fmt.Errorf("webgpu ReduceWindow with base dilations %v: %w", baseDilations, errNotImplemented)
		}
	}
	t, err := wordType("ReduceWindow", n)
	if err != nil {
		return nil, err
	}
	op := map[backends.ReduceOpType]backends.OpType{backends.ReduceOpSum: backends.OpTypeReduceSum,
		backends.ReduceOpProduct: backends.OpTypeReduceProduct, backends.ReduceOpMax: backends.OpTypeReduceMax,
		backends.ReduceOpMin: backends.OpTypeReduceMin}[reductionType]
	init, combine, err := reduction(op, t)
	if err != nil {
		return nil, err
	}
	rank := n.shape.Rank()
	orOnes := func(v []int) []int {
		if len(v) == 0 {
			v = make([]int, rank)
			for i := range v {
				v[i] = 1
			}
		}
		return v
	}
	padLo := make([]int, rank)
	for d := range paddings {
		padLo[d] = paddings[d][0]
	}
	w := window{outDims: shape.Dimensions, inDims: n.shape.Dimensions, inStrides: strides(n.shape.Dimensions),
		size: windowDimensions, strides: orOnes(windowStrides), dilations: orOnes(windowDilations), padLow: padLo}
	out, err := b.add(backends.OpTypeReduceWindow, shape, n)
	if err != nil {
		return nil, err
	}
	out.dispatches = []dispatch{{source: reduceWindowSource(t, init, combine, w), reads: []*node{n}, params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

func (b *Builder) ReduceSum(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceSum, x, axes)
}
func (b *Builder) ReduceProduct(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceProduct, x, axes)
}
func (b *Builder) ReduceMax(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceMax, x, axes)
}
func (b *Builder) ReduceMin(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceMin, x, axes)
}
func (b *Builder) ReduceLogicalAnd(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceLogicalAnd, x, axes)
}
func (b *Builder) ReduceLogicalOr(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceLogicalOr, x, axes)
}
func (b *Builder) ReduceBitwiseAnd(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceBitwiseAnd, x, axes)
}
func (b *Builder) ReduceBitwiseOr(x backends.Op, axes ...int) (backends.Op, error) {
	return b.reduce(backends.OpTypeReduceBitwiseOr, x, axes)
}

func (b *Builder) ArgMinMax(x backends.Op, axis int, outputDType dtypes.DType, isMin bool) (backends.Op, error) {
	n, err := b.nodeOf("ArgMinMax", x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.ArgMinMaxOp(n.shape, axis, outputDType)
	if err != nil {
		return nil, err
	}
	t, err := wordType("ArgMinMax", n)
	if err != nil {
		return nil, err
	}
	outT, err := deviceType(outputDType)
	if err != nil || outT == "" || outT == "f32" {
		return nil, fmt.Errorf("webgpu ArgMinMax: output dtype %s", outputDType)
	}
	out, err := b.add(backends.OpTypeArgMinMax, shape, n)
	if err != nil {
		return nil, err
	}
	kd, ks, _, _ := keptAndReduced(n.shape.Dimensions, []int{axis})
	better := "v > best"
	if isMin {
		better = "v < best"
	}
	out.dispatches = []dispatch{{source: argSource(t, outT, better, kd, ks, n.shape.Dimensions[axis], strides(n.shape.Dimensions)[axis]),
		reads: []*node{n}, params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

// newIndexing describes a gather or scatter for its kernel: over the dims of the values iterated (the
// output for a gather, the updates for a scatter), each axis is either a window axis (stride into the
// operand) or a batch axis (stride into the indices).
func newIndexing(iterDims []int, windowAxes []int, operand shapes.Shape, skippedOperandAxes []int,
	indices shapes.Shape, indexVectorAxis int, operandAxesOfStarts []int, windowSize func(operandAxis int) int) indexing {
	rank := len(iterDims)
	idxStride, opStride := make([]int, rank), make([]int, rank)
	is, os := strides(indices.Dimensions), strides(operand.Dimensions)
	var windowOperandAxes []int
	for a := range operand.Rank() {
		if !slices.Contains(skippedOperandAxes, a) {
			windowOperandAxes = append(windowOperandAxes, a)
		}
	}
	var batchIndexAxes []int
	for a := range indices.Rank() {
		if a != indexVectorAxis {
			batchIndexAxes = append(batchIndexAxes, a)
		}
	}
	w, bi := 0, 0
	for d := range rank {
		if slices.Contains(windowAxes, d) {
			opStride[d] = os[windowOperandAxes[w]]
			w++
		} else {
			idxStride[d] = is[batchIndexAxes[bi]]
			bi++
		}
	}
	vectorStride := 0
	if indexVectorAxis < indices.Rank() {
		vectorStride = is[indexVectorAxis]
	}
	ix := indexing{dims: iterDims, indexStrides: idxStride, operandStrides: opStride, vectorStride: vectorStride}
	for _, a := range operandAxesOfStarts {
		ix.startStrides = append(ix.startStrides, os[a])
		ix.maxStarts = append(ix.maxStarts, operand.Dimensions[a]-windowSize(a))
	}
	return ix
}

func (b *Builder) Gather(operand, startIndices backends.Op, indexVectorAxis int, offsetOutputAxes, collapsedSliceAxes,
	startIndexMap, sliceSizes []int, indicesAreSorted bool) (backends.Op, error) {
	ns, err := b.nodesOf("Gather", operand, startIndices)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.Gather(ns[0].shape, ns[1].shape, indexVectorAxis, offsetOutputAxes, collapsedSliceAxes,
		startIndexMap, sliceSizes, indicesAreSorted)
	if err != nil {
		return nil, err
	}
	t, err := wordType("Gather", ns[0])
	if err != nil {
		return nil, err
	}
	idxT, err := wordType("Gather", ns[1])
	if err != nil || idxT == "f32" {
		return nil, fmt.Errorf("webgpu Gather: indices of dtype %s", ns[1].shape.DType)
	}
	ix := newIndexing(shape.Dimensions, offsetOutputAxes, ns[0].shape, collapsedSliceAxes, ns[1].shape,
		indexVectorAxis, startIndexMap, func(a int) int { return sliceSizes[a] })
	out, err := b.add(backends.OpTypeGather, shape, ns...)
	if err != nil {
		return nil, err
	}
	out.dispatches = []dispatch{{source: gatherSource(t, idxT, ix), reads: ns, params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

func (b *Builder) ScatterSum(operand, scatterIndices, updates backends.Op, indexVectorAxis int,
	updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes []int, indicesAreSorted, uniqueIndices bool) (backends.Op, error) {
	ns, err := b.nodesOf("ScatterSum", operand, scatterIndices, updates)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.ScatterOp(ns[0].shape, ns[1].shape, ns[2].shape, indexVectorAxis,
		updateWindowAxes, insertedWindowAxes, scatterAxesToOperandAxes)
	if err != nil {
		return nil, err
	}
	t, err := wordType("ScatterSum", ns[0])
	if err != nil {
		return nil, err
	}
	idxT, err := wordType("ScatterSum", ns[1])
	if err != nil || idxT == "f32" {
		return nil, fmt.Errorf("webgpu ScatterSum: indices of dtype %s", ns[1].shape.DType)
	}
	// The window's extent along each operand axis: 1 for inserted axes, else the updates' dim.
	extent := map[int]int{}
	w := 0
	for a := range shape.Rank() {
		if slices.Contains(insertedWindowAxes, a) {
			extent[a] = 1
			continue
		}
		extent[a] = ns[2].shape.Dimensions[updateWindowAxes[w]]
		w++
	}
	ix := newIndexing(ns[2].shape.Dimensions, updateWindowAxes, shape, insertedWindowAxes, ns[1].shape,
		indexVectorAxis, scatterAxesToOperandAxes, func(a int) int { return extent[a] })
	if indices := constInts(ns[1]); indices != nil {
		// Constant indices (the adjoint of an im2col gather): a gather-sum over a CSR table.
		row, col := csr(indexedTable(ix, indices, false), shape.Size())
		rowNode, err := b.constantU32(row)
		if err != nil {
			return nil, err
		}
		colNode, err := b.constantU32(col)
		if err != nil {
			return nil, err
		}
		out, err := b.add(backends.OpTypeScatterSum, shape, ns...)
		if err != nil {
			return nil, err
		}
		out.dispatches = []dispatch{{source: gatherSumSource(t), reads: []*node{ns[0], ns[2], rowNode, colNode},
			params: u32s(shape.Size()), threads: shape.Size()}}
		return out, nil
	}
	out, err := b.add(backends.OpTypeScatterSum, shape, ns...)
	if err != nil {
		return nil, err
	}
	out.dispatches = []dispatch{
		{source: copyReadSource(t, shape.Dimensions, strides(shape.Dimensions), 0), reads: ns[:1], params: u32s(shape.Size()), threads: shape.Size()},
		{source: scatterAddSource(t, idxT, ix), reads: []*node{ns[2], ns[1]}, params: u32s(ns[2].shape.Size()), threads: ns[2].shape.Size()},
	}
	return out, nil
}

func (b *Builder) DotGeneral(lhs backends.Op, lhsContractingAxes, lhsBatchAxes []int,
	rhs backends.Op, rhsContractingAxes, rhsBatchAxes []int) (backends.Op, error) {
	ns, err := b.nodesOf("DotGeneral", lhs, rhs)
	if err != nil {
		return nil, err
	}
	l, r := ns[0], ns[1]
	if l.shape.DType != r.shape.DType {
		return nil, fmt.Errorf("webgpu DotGeneral: dtypes %s and %s", l.shape.DType, r.shape.DType)
	}
	if len(lhsContractingAxes) != len(rhsContractingAxes) || len(lhsBatchAxes) != len(rhsBatchAxes) {
		return nil, fmt.Errorf("webgpu DotGeneral: %d/%d contracting and %d/%d batch axes", len(lhsContractingAxes),
			len(rhsContractingAxes), len(lhsBatchAxes), len(rhsBatchAxes))
	}
	t, err := wordType("DotGeneral", l)
	if err != nil {
		return nil, err
	}
	cross := func(s shapes.Shape, contracting, batch []int) []int {
		var c []int
		for a := range s.Rank() {
			if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
				c = append(c, a)
			}
		}
		return c
	}
	dimsOf := func(s shapes.Shape, axes []int) []int {
		d := make([]int, len(axes))
		for i, a := range axes {
			d[i] = s.Dimensions[a]
		}
		return d
	}
	lc, rc := cross(l.shape, lhsContractingAxes, lhsBatchAxes), cross(r.shape, rhsContractingAxes, rhsBatchAxes)
	batchDims := dimsOf(l.shape, lhsBatchAxes)
	if !slices.Equal(batchDims, dimsOf(r.shape, rhsBatchAxes)) ||
		!slices.Equal(dimsOf(l.shape, lhsContractingAxes), dimsOf(r.shape, rhsContractingAxes)) {
		return nil, fmt.Errorf("webgpu DotGeneral: %s and %s do not match on the batch or contracting axes", l.shape, r.shape)
	}
	B, M, N, K := product(batchDims), product(dimsOf(l.shape, lc)), product(dimsOf(r.shape, rc)), product(dimsOf(l.shape, lhsContractingAxes))
	mb, nb := (M+3)/4, (N+3)/4
	if B*mb*nb >= 1<<31 {
		return nil, fmt.Errorf("webgpu DotGeneral: %s·%s is too large", l.shape, r.shape)
	}
	if B*M*N == 0 || K == 0 {
		return nil, fmt.Errorf("webgpu DotGeneral: empty product %s·%s", l.shape, r.shape)
	}
	shape := shapes.Make(l.shape.DType, slices.Concat(batchDims, dimsOf(l.shape, lc), dimsOf(r.shape, rc))...)
	// Each operand is read in place, at the strides of its batch, cross and contracting axes, when
	// each group walks memory as one axis (also through a transpose or broadcast node: its source is
	// read); otherwise it is first transposed to [batch, cross, contracting] (lhs) or [batch,
	// contracting, cross] (rhs).
	// Each operand is read in place when it already is in the product's layout up to a broadcast
	// batch (stride 0: the engine multiplies one kernel with each image's patches), else from a copy
	// in that layout. Reading any transpose in place works (operandLayout, contractionRuns) but ran
	// slower on SwiftShader than the copy plus contiguous reads, measured per kernel with gpuCheck's
	// profile: the 4×4 blocks' strided loads miss what the contiguous ones share.
	la, err := b.productOperand(l, lhsBatchAxes, lc, lhsContractingAxes, true)
	if err != nil {
		return nil, err
	}
	ra, err := b.productOperand(r, rhsBatchAxes, rc, rhsContractingAxes, false)
	if err != nil {
		return nil, err
	}
	runs, ok := contractionRuns(l.shape.Dimensions, lhsContractingAxes, la.axisStrides, rhsContractingAxes, ra.axisStrides)
	if !ok {
		return nil, fmt.Errorf("webgpu DotGeneral: %s·%s: no layout for its contraction", l.shape, r.shape)
	}
	if len(runs) == 1 {
		runs = append(runs, contraction{size: 1})
	}
	mm := matmul{t: t, batch: B, m: M, n: N, a: la, b: ra, outer: runs[0], inner: runs[1]}
	mm.splits, mm.chunk = matmulSplits(B*mb*nb, runs[0].size, runs[1].size)
	if mm.splits == 1 {
		out, err := b.add(backends.OpTypeDotGeneral, shape, l, r)
		if err != nil {
			return nil, err
		}
		out.dispatches = []dispatch{{source: mm.source(), reads: []*node{la.src, ra.src}, params: u32s(B * mb * nb), threads: B * mb * nb}}
		return out, nil
	}
	partial, err := b.add(backends.OpTypeDotGeneral, shapes.Make(shape.DType, append([]int{mm.splits}, shape.Dimensions...)...), l, r)
	if err != nil {
		return nil, err
	}
	n := mm.splits * B * mb * nb
	partial.dispatches = []dispatch{{source: mm.source(), reads: []*node{la.src, ra.src}, params: u32s(n), threads: n}}
	return b.reduce(backends.OpTypeReduceSum, partial, []int{0})
}

// productOperand is how a product reads operand n: in place when n (or the source of a transpose
// or broadcast node n) is laid out as the product wants it — lhs [batch, cross, contracting], rhs
// [batch, contracting, cross], row-major — up to a stride-0 (broadcast) batch; else from a copy
// transposed to that order.
func (b *Builder) productOperand(n *node, batchAxes, crossAxes, contractAxes []int, lhs bool) (layout, error) {
	dims := n.shape.Dimensions
	size := func(axes []int) int { return product(dimsAt(dims, axes)) }
	crossWant, contractWant := size(contractAxes), 1 // lhs: [.., cross, contract]
	order := slices.Concat(batchAxes, crossAxes, contractAxes)
	if !lhs {
		crossWant, contractWant = 1, size(crossAxes) // rhs: [.., contract, cross]
		order = slices.Concat(batchAxes, contractAxes, crossAxes)
	}
	if l, ok := operandLayout(n, batchAxes, crossAxes); ok {
		q, okq := mergedStride(dims, l.axisStrides, contractAxes)
		matrix := size(crossAxes) * size(contractAxes)
		if okq && (l.cross == crossWant || size(crossAxes) == 1) && (q == contractWant || size(contractAxes) == 1) &&
			(l.batch == 0 || l.batch == matrix || size(batchAxes) == 1) {
			return l, nil
		}
	}
	t, err := b.transpose(n, order)
	if err != nil {
		return layout{}, err
	}
	st := strides(t.shape.Dimensions)
	axisStrides := make([]int, len(order))
	for j, a := range order {
		axisStrides[a] = st[j]
	}
	bs, _ := mergedStride(dims, axisStrides, batchAxes)
	c, _ := mergedStride(dims, axisStrides, crossAxes)
	return layout{src: t, batch: bs, cross: c, axisStrides: axisStrides}, nil
}

func dimsAt(dims, axes []int) []int {
	d := make([]int, len(axes))
	for i, a := range axes {
		d[i] = dims[a]
	}
	return d
}

// layout is how a product reads one operand in place: element (batch b, cross c, contracting
// index q) at src[b·batch + c·cross + Σ q_axis·axisStrides[axis]].
type layout struct {
	src          *node
	batch, cross int
	axisStrides  []int // per axis of the operand, in src's memory
}

// contraction is one loop of a product's contraction: size steps, a and b the operands' strides.
type contraction struct{ size, a, b int }

// operandLayout reads n in place: its batch axes and its cross axes must each walk memory as one
// axis, in n's own row-major layout or, when n is a transpose or broadcast node, in its source's (a
// broadcast batch gets stride 0).
func operandLayout(n *node, batchAxes, crossAxes []int) (layout, bool) {
	src, st := n, strides(n.shape.Dimensions)
	for src.alias != nil && slices.Equal(src.alias.shape.Dimensions, src.shape.Dimensions) {
		src = src.alias
	}
	if v := src.view; v != nil && v.offset == 0 {
		src, st = v.src, v.strides
	} else if src.alias != nil {
		src, st = n, strides(n.shape.Dimensions) // a reshape: n's own layout, through its storage
	}
	b, ok1 := mergedStride(n.shape.Dimensions, st, batchAxes)
	c, ok2 := mergedStride(n.shape.Dimensions, st, crossAxes)
	return layout{src: src, batch: b, cross: c, axisStrides: st}, ok1 && ok2
}

// mergedStride is the stride of axes walked as one axis (the innermost's; each outer one's must be
// the inner one's times the dims inside it), or false.
func mergedStride(dims, st, axes []int) (int, bool) {
	stride, size := 0, 1
	for i := len(axes) - 1; i >= 0; i-- {
		a := axes[i]
		if dims[a] == 1 {
			continue
		}
		if size == 1 {
			stride = st[a]
		} else if st[a] != stride*size {
			return 0, false
		}
		size *= dims[a]
	}
	return stride, true
}

// contractionRuns pairs the contracting axes of both operands into at most two loops: adjacent axes
// merge where both operands walk them as one (a kernel's gradient contracts over the batch and the
// positions, which neither operand holds together).
func contractionRuns(dims []int, lAxes, lStrides, rAxes, rStrides []int) ([]contraction, bool) {
	var runs []contraction
	for i := range lAxes {
		d := dims[lAxes[i]]
		if d == 1 {
			continue
		}
		sa, sb := lStrides[lAxes[i]], rStrides[rAxes[i]]
		if last := len(runs) - 1; last >= 0 && runs[last].a == sa*d && runs[last].b == sb*d {
			runs[last] = contraction{size: runs[last].size * d, a: sa, b: sb}
			continue
		}
		runs = append(runs, contraction{size: d, a: sa, b: sb})
	}
	if len(runs) == 0 {
		runs = []contraction{{size: 1}}
	}
	return runs, len(runs) <= 2
}

func (b *Builder) Dot(lhs, rhs backends.Op) (backends.Op, error) {
	ns, err := b.nodesOf("Dot", lhs, rhs)
	if err != nil {
		return nil, err
	}
	lr, rr := ns[0].shape.Rank(), ns[1].shape.Rank()
	if lr < 1 || lr > 2 || rr < 1 || rr > 2 {
		return nil, fmt.Errorf("webgpu Dot: ranks %d and %d (want vectors or matrices)", lr, rr)
	}
	return b.DotGeneral(lhs, []int{lr - 1}, nil, rhs, []int{0}, nil)
}

func (b *Builder) RNGBitGenerator(state backends.Op, shape shapes.Shape) (newState, values backends.Op, err error) {
	s, err := b.nodeOf("RNGBitGenerator", state)
	if err != nil {
		return nil, nil, err
	}
	if !s.shape.Equal(backends.RNGStateShape) {
		return nil, nil, fmt.Errorf("webgpu RNGBitGenerator: state %s, want %s", s.shape, backends.RNGStateShape)
	}
	if shape.DType != dtypes.Uint32 {
		return nil, nil, fmt.Errorf("webgpu RNGBitGenerator: %s bits (only Uint32: float32 random numbers)", shape.DType)
	}
	v, err := b.add(backends.OpTypeRNGBitGenerator, shape, s)
	if err != nil {
		return nil, nil, err
	}
	v.dispatches = []dispatch{{source: rngSource(), reads: []*node{s}, params: u32s(shape.Size()), threads: shape.Size()}}
	ns, err := b.add(backends.OpTypeRNGBitGenerator, s.shape, s)
	if err != nil {
		return nil, nil, err
	}
	ns.dispatches = []dispatch{{source: rngStateSource(), reads: []*node{s}, params: u32s(6), threads: 6}}
	return ns, v, nil
}
