// Package nn holds the layers mnistzip's models share that GoMLX v0.26.0 does not provide: the
// transposed convolution and the sub-pixel (depth-to-space) upsampling. They are plain graph code,
// so they run and train on every backend.
package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/mnistzip/mnistzip/graphs/engine"
)

// ConvTranspose is the transposed convolution (the adjoint of a strided convolution, "deconvolution"):
// with x [batch, spatial..., inChannels] and kernel [window..., inChannels, outChannels], input position
// i and window offset w add x[i]·kernel[w] to output position i·stride + w − padLo, as PyTorch's
// ConvTranspose with padding padLo does. outSpatial fixes the output size (PyTorch's output_padding).
//
// It is computed as one matrix product x·kernel giving every (input position, window offset)
// contribution, then one ScatterSum of those contributions into the output grid, with the same index
// table as the engine's im2col convolution. GoMLX has no transposed convolution, and expressing it as a
// convolution with input dilation would leave it without a gradient (GoMLX refuses the gradient of an
// input-dilated convolution); Gather and ScatterSum are each other's gradients on every backend.
func ConvTranspose(x, kernel *Node, strides, padLo, outSpatial []int) *Node {
	rank := x.Rank() - 2
	if kernel.Rank() != rank+2 || len(strides) != rank || len(padLo) != rank || len(outSpatial) != rank {
		panic(fmt.Sprintf("ConvTranspose: x %s, kernel %s, strides %v, padLo %v, outSpatial %v do not agree", x.Shape(), kernel.Shape(), strides, padLo, outSpatial))
	}
	dims := x.Shape().Dimensions
	batch, inChannels := dims[0], dims[rank+1]
	inSpatial := dims[1 : rank+1]
	window := kernel.Shape().Dimensions[:rank]
	outChannels := kernel.Shape().Dimensions[rank+1]
	if kernel.Shape().Dimensions[rank] != inChannels {
		panic(fmt.Sprintf("ConvTranspose: kernel %s has %d input channels, x %s has %d", kernel.Shape(), kernel.Shape().Dimensions[rank], x.Shape(), inChannels))
	}

	// The index table of the forward convolution outSpatial → inSpatial; padHi is whatever makes that
	// convolution's output exactly inSpatial.
	paddings := make([][2]int, rank)
	for r := range rank {
		paddings[r] = [2]int{padLo[r], (inSpatial[r]-1)*strides[r] + window[r] - outSpatial[r] - padLo[r]}
	}
	gotIn, index, err := engine.WindowIndex(outSpatial, window, strides, paddings)
	if err != nil {
		panic(fmt.Sprintf("ConvTranspose: %v", err))
	}
	for r := range rank {
		if gotIn[r] != inSpatial[r] {
			panic(fmt.Sprintf("ConvTranspose: output %v cannot come from input %v with window %v, strides %v", outSpatial, inSpatial, window, strides))
		}
	}
	numIn, numWindow, numOut := shapes.Make(x.DType(), inSpatial...).Size(), shapes.Make(x.DType(), window...).Size(), shapes.Make(x.DType(), outSpatial...).Size()

	g := x.Graph()
	// contributions[b, i, w, o] = Σ_c x[b, i, c]·kernel[w, c, o]
	xFlat := Reshape(x, batch*numIn, inChannels)
	kFlat := Reshape(TransposeAllAxes(kernel, append([]int{rank}, append(iotaInts(0, rank), rank+1)...)...), inChannels, numWindow*outChannels)
	contributions := Reshape(Dot(xFlat, kFlat), batch, numIn*numWindow, outChannels)
	contributions = Reshape(TransposeAllAxes(contributions, 1, 0, 2), numIn*numWindow, batch*outChannels)

	indices := Reshape(Const(g, index), numIn*numWindow, 1)
	// Row numOut collects the contributions that fall outside the output (padding); it is dropped.
	y := Scatter(indices, contributions, shapes.Make(x.DType(), numOut+1, batch*outChannels), false, false)
	y = Slice(y, AxisRange(0, numOut))
	y = Reshape(y, append(append([]int{}, outSpatial...), batch, outChannels)...)
	perm := append([]int{rank}, iotaInts(0, rank)...)
	return TransposeAllAxes(y, append(perm, rank+1)...)
}

// ConvTransposeSame upsamples by stride: output spatial size = input size × stride, with the window
// centred as TensorFlow's "same" transposed convolution (padLo = (window − stride)/2).
func ConvTransposeSame(x, kernel *Node, stride int) *Node {
	rank := x.Rank() - 2
	strides, padLo, out := make([]int, rank), make([]int, rank), make([]int, rank)
	for r := range rank {
		k := kernel.Shape().Dimensions[r]
		if k < stride {
			panic(fmt.Sprintf("ConvTransposeSame: window %d smaller than stride %d", k, stride))
		}
		strides[r], padLo[r], out[r] = stride, (k-stride)/2, x.Shape().Dimensions[1+r]*stride
	}
	return ConvTranspose(x, kernel, strides, padLo, out)
}

func iotaInts(start, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = start + i
	}
	return out
}
