package engine

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// GoMLX v0.26.0 builds the gradient of a matrix product as a broadcast Mul of shape
// [batch, lhsCross, rhsCross, contracted] followed by a ReduceSum: on simplego that materializes a
// tensor far larger than either operand and runs at a fraction of the matrix-product speed (for the
// 784-512 layer at batch 128, a 51M-element temporary). XLA does not rescue it either: measured with
// the xla-cpu-pjrt plugin (`mnistzip bench --backends xla:cpu`), the 784→512 layer's forward+dx+dW ran
// at 1.7 GFLOP/s against 108 GFLOP/s for its forward product. The gradients installed here are
// themselves matrix products, so matrix-product gradients use them on every backend. The convolution
// gradients are the engine's own formulation (im2col products, convgrad.go) on the engine, and on
// other backends GoMLX's stock convolution gradients except for strided ones (convgrad_phases.go).

var stockVJP = map[NodeType]VJP{}

func installGradients() {
	stockVJP[NodeTypeConvGeneral] = VJPRegistration[NodeTypeConvGeneral]
	VJPRegistration[NodeTypeConvGeneral] = func(node *Node, v []*Node, outputShape shapes.Shape) []*Node {
		if IsEngine(node.Graph().Backend()) {
			return convGeneralVJP(node, v, outputShape)
		}
		return convPhasesVJP(node, v, outputShape)
	}
	VJPRegistration[NodeTypeDotGeneral] = dotGeneralVJP
	VJPRegistration[NodeTypeDot] = dotVJP
	// GoMLX v0.26.0 defines no gradient for Pad at all (on any backend).
	if _, ok := VJPRegistration[NodeTypePad]; !ok {
		VJPRegistration[NodeTypePad] = padVJP
	}
	if _, ok := VJPRegistration[NodeTypeReverse]; !ok {
		VJPRegistration[NodeTypeReverse] = func(node *Node, vs []*Node, _ shapes.Shape) []*Node {
			return []*Node{Reverse(vs[0], nodeIntsParam(node, "axes")...)}
		}
	}
}

// nodeIntsParam reads an []int parameter of a node. GoMLX keeps op parameters in unexported structs;
// reading them by reflection is the only way to write a replacement gradient without forking GoMLX.
// A test checks every parameter read here, so a GoMLX upgrade that renames one fails loudly.
func nodeIntsParam(node *Node, field string) []int {
	inputs := reflect.ValueOf(node).Elem().FieldByName("inputs")
	if !inputs.IsValid() || inputs.IsNil() {
		panic(fmt.Sprintf("engine: GoMLX node %s has no inputs field", node.Type()))
	}
	params := inputs.Elem()
	if params.Kind() == reflect.Pointer {
		params = params.Elem()
	}
	f := params.FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.Slice {
		panic(fmt.Sprintf("engine: GoMLX node %s has no []int field %q (GoMLX version changed?)", node.Type(), field))
	}
	out := make([]int, f.Len())
	for i := range out {
		out[i] = int(f.Index(i).Int())
	}
	return out
}

// freeAxes returns, ascending, the axes of a rank-n operand that are neither contracted nor batch.
func freeAxes(rank int, contracting, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contracting, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// dotGeneralVJP: output is [batch, lhsFree, rhsFree]. The gradient for lhs contracts v's rhsFree axes
// with rhs's free axes (batch axes stay batch), giving [batch, lhsFree, rhsContracting (ascending)],
// then transposes to lhs's layout; symmetrically for rhs.
func dotGeneralVJP(node *Node, vs []*Node, _ shapes.Shape) []*Node {
	v := vs[0]
	lhs, rhs := node.Inputs()[0], node.Inputs()[1]
	lc, lb := nodeIntsParam(node, "lhsContractingAxes"), nodeIntsParam(node, "lhsBatchAxes")
	rc, rb := nodeIntsParam(node, "rhsContractingAxes"), nodeIntsParam(node, "rhsBatchAxes")
	lf, rf := freeAxes(lhs.Rank(), lc, lb), freeAxes(rhs.Rank(), rc, rb)
	nb := len(lb)
	vBatch := iota(0, nb)
	vLhsFree := iota(nb, len(lf))
	vRhsFree := iota(nb+len(lf), len(rf))
	gradLhs := DotGeneral(v, vRhsFree, vBatch, rhs, rf, rb)
	gradLhs = TransposeAllAxes(gradLhs, dotGradPermutation(lhs.Rank(), lb, lf, lc, rc)...)
	gradRhs := DotGeneral(v, vLhsFree, vBatch, lhs, lf, lb)
	gradRhs = TransposeAllAxes(gradRhs, dotGradPermutation(rhs.Rank(), rb, rf, rc, lc)...)
	return []*Node{gradLhs, gradRhs}
}

// dotGradPermutation maps a gradient laid out as [batch, thisFree, otherContracting ascending] back to
// this operand's axes. thisContracting[i] pairs with otherContracting[i].
func dotGradPermutation(rank int, thisBatch, thisFree, thisContracting, otherContracting []int) []int {
	perm := make([]int, rank)
	for i, a := range thisBatch {
		perm[a] = i
	}
	for j, a := range thisFree {
		perm[a] = len(thisBatch) + j
	}
	sorted := slices.Sorted(slices.Values(otherContracting))
	for i, a := range thisContracting {
		perm[a] = len(thisBatch) + len(thisFree) + slices.Index(sorted, otherContracting[i])
	}
	return perm
}

// dotVJP is the gradient of GoMLX's plain Dot (vector·vector, matrix·vector, matrix·matrix).
func dotVJP(node *Node, vs []*Node, _ shapes.Shape) []*Node {
	v := vs[0]
	a, b := node.Inputs()[0], node.Inputs()[1]
	switch {
	case a.Rank() == 1 && b.Rank() == 1:
		return []*Node{Mul(v, b), Mul(v, a)}
	case a.Rank() == 2 && b.Rank() == 1: // [i,j]·[j] → [i]
		return []*Node{
			DotGeneral(InsertAxes(v, -1), []int{1}, nil, InsertAxes(b, 0), []int{0}, nil),
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	default: // [i,j]·[j,k] → [i,k]
		return []*Node{
			DotGeneral(v, []int{1}, nil, b, []int{1}, nil),
			DotGeneral(a, []int{0}, nil, v, []int{0}, nil),
		}
	}
}

func iota(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}

// padAxesParam reads Pad's per-axis configuration (see nodeIntsParam for why reflection).
func padAxesParam(node *Node) []backends.PadAxis {
	params := reflect.ValueOf(node).Elem().FieldByName("inputs").Elem().Elem()
	f := params.FieldByName("axesConfig")
	if !f.IsValid() || f.Kind() != reflect.Slice {
		panic("engine: GoMLX Pad node has no axesConfig field (GoMLX version changed?)")
	}
	out := make([]backends.PadAxis, f.Len())
	for i := range out {
		e := f.Index(i)
		out[i] = backends.PadAxis{Start: int(e.FieldByName("Start").Int()), End: int(e.FieldByName("End").Int()),
			Interior: int(e.FieldByName("Interior").Int())}
	}
	return out
}

// padVJP: the operand's gradient is v at the operand's positions: undo negative padding (cropped
// elements get zero), then take every (1+interior)-th element after Start. The fill value receives
// the gradient of every padded position: sum(v) − sum(operand's gradient).
func padVJP(node *Node, vs []*Node, _ shapes.Shape) []*Node {
	v := vs[0]
	x, fill := node.Inputs()[0], node.Inputs()[1]
	cfg := padAxesParam(node)
	uncrop := make([]backends.PadAxis, x.Rank())
	needUncrop := false
	for a := range cfg {
		uncrop[a] = backends.PadAxis{Start: max(0, -cfg[a].Start), End: max(0, -cfg[a].End)}
		needUncrop = needUncrop || uncrop[a].Start > 0 || uncrop[a].End > 0
	}
	g := v
	if needUncrop {
		g = Pad(g, ScalarZero(v.Graph(), v.DType()), uncrop...)
	}
	specs := make([]SliceAxisSpec, x.Rank())
	for a := range x.Rank() {
		start, step := 0, 1
		if a < len(cfg) {
			start, step = max(0, cfg[a].Start), 1+cfg[a].Interior
		}
		n := x.Shape().Dimensions[a]
		specs[a] = AxisRange(start, start+(n-1)*step+1).Stride(step)
	}
	gx := Slice(g, specs...)
	gFill := Sub(ReduceAllSum(v), ReduceAllSum(gx))
	return []*Node{gx, ConvertDType(gFill, fill.DType())}
}
