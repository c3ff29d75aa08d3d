package engine

import (
	"math"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// SelectAndScatterMax is missing from simplego; GoMLX's MaxPool gradient needs it.
func (b *Builder) SelectAndScatterMax(operand, source backends.Op, windowDimensions, windowStrides []int, paddings [][2]int) (backends.Op, error) {
	return b.selectAndScatter(operand, source, windowDimensions, windowStrides, paddings, false)
}

// SelectAndScatterMin is missing from simplego; GoMLX's MinPool gradient needs it.
func (b *Builder) SelectAndScatterMin(operand, source backends.Op, windowDimensions, windowStrides []int, paddings [][2]int) (backends.Op, error) {
	return b.selectAndScatter(operand, source, windowDimensions, windowStrides, paddings, true)
}

// selectAndScatter adds each source value to the position of its window's extreme (the first one on
// ties, as XLA's select with >= does). One Gather reads every window, ArgMinMax picks the winner, a
// second Gather maps it to its flat position in the operand and one ScatterSum accumulates.
// Windows may overlap and be padded; padding never wins (it reads -Inf for max, +Inf for min).
func (b *Builder) selectAndScatter(operand, source backends.Op, windowDimensions, windowStrides []int, paddings [][2]int, isMin bool) (out backends.Op, err error) {
	defer catch("SelectAndScatter", &err)
	s := b.shape(operand)
	table, err := newWindowTable(s.Dimensions, windowDimensions, windowStrides, paddings, nil, nil)
	if err != nil {
		fail("%v", err)
	}
	n, p, k := table.numIn, table.numOut, table.numWindow
	padValue := math.Inf(-1)
	if isMin {
		padValue = math.Inf(1)
	}
	flat := b.reshape(operand, n)
	flat = must(b.Builder.Concatenate(0, flat, b.reshape(b.scalar(s.DType, padValue), 1)))
	// Indices are [p·k, 1] rather than [p, k, 1]: GoMLX v0.26.0's shape inference checks Gather's
	// indexVectorAxis against the operand's rank instead of the indices' rank.
	indices := b.indexConstant(table.index, p*k, 1)
	windows := must(b.Builder.Gather(flat, indices, 1, nil, []int{0}, []int{0}, []int{1}, false))
	windows = b.reshape(windows, p, k)
	winner := must(b.Builder.ArgMinMax(windows, 1, dtypes.Int32, isMin)) // [p]

	// Flat table position of each winner: p·k + winner.
	rowStart := make([]int32, p)
	for i := range rowStart {
		rowStart[i] = int32(i * k)
	}
	pos := must(b.Builder.Add(b.indexConstant(rowStart, p), winner))
	target := must(b.Builder.Gather(b.indexConstant(table.index, p*k), b.reshape(pos, p, 1), 1, nil, []int{0}, []int{0}, []int{1}, false))

	zeros := b.full(b.scalar(s.DType, 0), n+1)
	updates := b.reshape(source, p)
	sum := must(b.Builder.ScatterSum(zeros, b.reshape(target, p, 1), updates, 1, nil, []int{0}, []int{0}, false, false))
	sum = must(b.Builder.Slice(sum, []int{0}, []int{n}, []int{1}))
	return b.reshape(sum, s.Dimensions...), nil
}
