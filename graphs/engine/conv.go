package engine

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// narrowOutput says whether a convolution's product [positions, window·channels]·[window·channels,
// outChannels] is better run per image: fewer output channels than simplego's float32 block width,
// and few enough positions per image that simplego takes its unblocked kernel (crosses ≤ 16·1024).
func narrowOutput(outChannels, positions int) bool {
	return outChannels < 32 && positions*outChannels <= 16*1024
}

// ConvGeneral runs a convolution as im2col: one Gather builds the patches [batch, outPositions,
// windowPositions, inChannels] from the input (with a zero row standing in for padding and dilation
// holes), and one DotGeneral multiplies them with the kernel. simplego's own ConvGeneral loops over
// every output element (~0.25 GFLOP/s on these machines); this runs at its matrix-product speed.
// GoMLX's gradient of a convolution is built from convolutions (with input or kernel dilations and a
// reversed kernel), so the same code path serves the backward pass.
func (b *Builder) ConvGeneral(input, kernel backends.Op, axes backends.ConvolveAxesConfig,
	strides []int, paddings [][2]int, inputDilations, kernelDilations []int,
	channelGroupCount, batchGroupCount int) (out backends.Op, err error) {
	if channelGroupCount > 1 || batchGroupCount > 1 {
		// Grouped convolutions are not used by mnistzip's models; simplego's direct loops handle them.
		return b.Builder.ConvGeneral(input, kernel, axes, strides, paddings, inputDilations, kernelDilations,
			channelGroupCount, batchGroupCount)
	}
	defer catch("ConvGeneral", &err)
	inShape, kShape := b.shape(input), b.shape(kernel)
	rank := len(axes.InputSpatial)

	// Input to [batch, spatial..., channels].
	perm := append(append([]int{axes.InputBatch}, axes.InputSpatial...), axes.InputChannels)
	x := b.transpose(input, perm...)
	batch, channels := inShape.Dimensions[axes.InputBatch], inShape.Dimensions[axes.InputChannels]
	inDims := make([]int, rank)
	kDims := make([]int, rank)
	for r := range rank {
		inDims[r] = inShape.Dimensions[axes.InputSpatial[r]]
		kDims[r] = kShape.Dimensions[axes.KernelSpatial[r]]
	}
	table, err := newWindowTable(inDims, kDims, strides, paddings, inputDilations, kernelDilations)
	if err != nil {
		fail("%v", err)
	}
	outChannels := kShape.Dimensions[axes.KernelOutputChannels]
	var y backends.Op
	if table.multiplyFirst(channels, outChannels, inputDilations) {
		y = b.convMultiplyFirst(x, kernel, axes, table, batch, channels, outChannels)
	} else {
		patches := b.gatherWindows(x, batch, channels, table)
		// Kernel to [window..., inChannels, outChannels] → [window·inChannels, outChannels].
		kPerm := append(append([]int{}, axes.KernelSpatial...), axes.KernelInputChannels, axes.KernelOutputChannels)
		k := b.reshape(b.transpose(kernel, kPerm...), table.numWindow*channels, outChannels)
		if narrowOutput(outChannels, table.numOut) {
			// A product with few output columns: simplego's blocked kernel pads them to its block
			// width (32 for float32), 4× the work for 8 filters. As a product per image (batch axis)
			// it runs its unblocked kernel instead, which does only the real work.
			patches = b.reshape(patches, batch, table.numOut, table.numWindow*channels)
			kb := must(b.Builder.BroadcastInDim(k, shapes.Make(b.shape(k).DType, batch, table.numWindow*channels, outChannels), []int{1, 2}))
			y = must(b.Builder.DotGeneral(patches, []int{2}, []int{0}, kb, []int{1}, []int{0}))
		} else {
			patches = b.reshape(patches, batch*table.numOut, table.numWindow*channels)
			y = must(b.Builder.DotGeneral(patches, []int{1}, nil, k, []int{0}, nil))
		}
	}
	y = b.reshape(y, append(append([]int{batch}, table.outDims...), outChannels)...)

	// [batch, spatial..., channels] to the requested output layout.
	outPerm := make([]int, rank+2)
	outPerm[axes.OutputBatch] = 0
	for r, a := range axes.OutputSpatial {
		outPerm[a] = r + 1
	}
	outPerm[axes.OutputChannels] = rank + 1
	return b.transpose(y, outPerm...), nil
}

// gatherWindows takes x shaped [batch, spatial..., channels] and returns [batch, numOut, numWindow,
// channels] following table; positions outside the input read zeros.
func (b *Builder) gatherWindows(x backends.Op, batch, channels int, table *windowTable) backends.Op {
	dtype := b.shape(x).DType
	x = b.reshape(x, batch, table.numIn, channels)
	zeroRow := b.full(b.scalar(dtype, 0), batch, 1, channels)
	x = must(b.Builder.Concatenate(1, x, zeroRow))
	indices := b.indexConstant(table.index, table.numOut, table.numWindow, 1)
	return must(b.Builder.Gather(x, indices, 2,
		/*offsetOutputAxes*/ []int{0, 3},
		/*collapsedSliceAxes*/ []int{1},
		/*startIndexMap*/ []int{1},
		/*sliceSizes*/ []int{batch, 1, channels},
		/*indicesAreSorted*/ false))
}

// convMultiplyFirst computes the convolution of x [batch, spatial..., channels] as one product of every
// input position with all window taps, z [batch, numIn·numWindow, outChannels], then one Gather of the
// numWindow products each output sums, and a sum over them (see windowTable.multiplyFirst for when).
// It returns [batch·numOut, outChannels].
func (b *Builder) convMultiplyFirst(x, kernel backends.Op, axes backends.ConvolveAxesConfig, table *windowTable,
	batch, channels, outChannels int) backends.Op {
	W := table.numWindow
	x2 := b.reshape(x, batch*table.numIn, channels)
	// Kernel to [inChannels, window..., outChannels] → [inChannels, window·outChannels].
	kPerm := append(append([]int{axes.KernelInputChannels}, axes.KernelSpatial...), axes.KernelOutputChannels)
	k2 := b.reshape(b.transpose(kernel, kPerm...), channels, W*outChannels)
	z := must(b.Builder.DotGeneral(x2, []int{1}, nil, k2, []int{0}, nil))
	z = b.reshape(z, batch, table.numIn*W, outChannels)
	zeros := b.full(b.scalar(b.shape(z).DType, 0), batch, W, outChannels) // the taps that read padding
	z = must(b.Builder.Concatenate(1, z, zeros))
	indices := b.indexConstant(table.tapIndex(), table.numOut*W, 1)
	taps := must(b.Builder.Gather(z, indices, 1,
		/*offsetOutputAxes*/ []int{0, 2},
		/*collapsedSliceAxes*/ []int{1},
		/*startIndexMap*/ []int{1},
		/*sliceSizes*/ []int{batch, 1, outChannels},
		/*indicesAreSorted*/ false))
	taps = b.reshape(taps, batch, table.numOut, W, outChannels)
	y := must(b.Builder.ReduceSum(taps, 2))
	return b.reshape(y, batch*table.numOut, outChannels)
}
