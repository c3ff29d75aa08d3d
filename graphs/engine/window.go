package engine

import "fmt"

// windowTable describes, for a sliding window over a (possibly dilated and padded) grid, which input
// element each (output position, window position) pair reads. It is the index table behind im2col
// convolutions, pooling gradients and padding: computed once at graph-build time and fed to one Gather,
// so the data movement runs as a single op instead of one op per window offset.
type windowTable struct {
	inDims, outDims, windowDims []int
	numIn                       int     // number of input grid points (product of inDims)
	numOut, numWindow           int     // product of outDims, product of windowDims
	index                       []int32 // [numOut × numWindow]; numIn marks "outside the input" (padding or a dilation hole)
}

// newWindowTable computes the table. All slices have one entry per spatial axis; empty means defaults
// (strides and dilations 1, paddings 0). Negative paddings crop, as in XLA.
func newWindowTable(inDims, windowDims, strides []int, paddings [][2]int, inputDilations, windowDilations []int) (*windowTable, error) {
	rank := len(inDims)
	strides = onesIfEmpty(strides, rank)
	inputDilations = onesIfEmpty(inputDilations, rank)
	windowDilations = onesIfEmpty(windowDilations, rank)
	if len(paddings) == 0 {
		paddings = make([][2]int, rank)
	}
	if len(windowDims) != rank || len(strides) != rank || len(paddings) != rank ||
		len(inputDilations) != rank || len(windowDilations) != rank {
		return nil, fmt.Errorf("window parameters have inconsistent ranks")
	}
	t := &windowTable{inDims: inDims, windowDims: windowDims, outDims: make([]int, rank)}
	for r := range rank {
		dilated := (inDims[r]-1)*inputDilations[r] + 1
		padded := dilated + paddings[r][0] + paddings[r][1]
		effWindow := (windowDims[r]-1)*windowDilations[r] + 1
		if strides[r] < 1 || inputDilations[r] < 1 || windowDilations[r] < 1 {
			return nil, fmt.Errorf("strides and dilations must be ≥ 1")
		}
		if padded < effWindow {
			return nil, fmt.Errorf("window %d (effective %d) larger than padded input %d on spatial axis %d", windowDims[r], effWindow, padded, r)
		}
		t.outDims[r] = (padded-effWindow)/strides[r] + 1
	}
	t.numIn, t.numOut, t.numWindow = product(inDims), product(t.outDims), product(windowDims)
	t.index = make([]int32, t.numOut*t.numWindow)

	inStrides := make([]int, rank)
	stride := 1
	for r := rank - 1; r >= 0; r-- {
		inStrides[r] = stride
		stride *= inDims[r]
	}
	outPos := make([]int, rank)
	winPos := make([]int, rank)
	i := 0
	for range t.numOut {
		clear(winPos)
		for range t.numWindow {
			flat := 0
			for r := range rank {
				pos := outPos[r]*strides[r] + winPos[r]*windowDilations[r] - paddings[r][0]
				if pos < 0 || pos%inputDilations[r] != 0 || pos/inputDilations[r] >= inDims[r] {
					flat = -1
					break
				}
				flat += pos / inputDilations[r] * inStrides[r]
			}
			if flat < 0 {
				flat = t.numIn
			}
			t.index[i] = int32(flat)
			i++
			increment(winPos, windowDims)
		}
		increment(outPos, t.outDims)
	}
	return t, nil
}

// increment advances a row-major multi-index over dims; it wraps to all zeros after the last.
func increment(pos, dims []int) {
	for r := len(pos) - 1; r >= 0; r-- {
		pos[r]++
		if pos[r] < dims[r] {
			return
		}
		pos[r] = 0
	}
}

// WindowIndex exposes the window table to graph-level code (graphs/nn builds transposed convolutions
// from it): for a convolution over a grid inDims with window windowDims, it returns the output grid and,
// for every (output position, window position) pair in row-major order, the flat input position read,
// or numIn (the product of inDims) where the window reads padding.
func WindowIndex(inDims, windowDims, strides []int, paddings [][2]int) (outDims []int, index []int32, err error) {
	t, err := newWindowTable(inDims, windowDims, strides, paddings, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	return t.outDims, t.index, nil
}

// multiplyFirst reports whether a convolution over this table, from channels to outChannels, is cheaper
// as "multiply, then gather-add" than as im2col. im2col gathers numWindow·channels values per output
// position, then multiplies [positions, numWindow·channels] by [numWindow·channels, outChannels];
// multiply-first multiplies every input position by all window taps at once ([inputs, channels] by
// [channels, numWindow·outChannels]) and gathers numWindow·outChannels values per output position.
// With as many inputs as outputs (stride 1) the products cost the same, so it wins whenever outChannels <
// channels: DenseNet's k = 12 feature maps out of 24–90 (6× less data gathered, and wide instead of
// 12-column products); with stride 2 it would multiply 4× as much and never wins. Input dilation
// (stock gradients only) breaks the one-output-per-(input, tap) property the gradient relies on.
func (t *windowTable) multiplyFirst(channels, outChannels int, inputDilations []int) bool {
	for _, d := range inputDilations {
		if d != 1 {
			return false
		}
	}
	return outChannels < channels && 2*t.numIn <= 3*t.numOut
}

// tapIndex returns, for every (output position, window position) pair, the row of the multiply-first
// product [numIn + 1, numWindow] (flattened) that holds that input position's product with that tap:
// index·numWindow + w, with the all-zero row numIn standing in for padding.
func (t *windowTable) tapIndex() []int32 {
	out := make([]int32, len(t.index))
	for i, s := range t.index {
		out[i] = s*int32(t.numWindow) + int32(i%t.numWindow)
	}
	return out
}

// inverse returns, for every (input position, window position) pair, the output position whose window
// reads that input at that tap, or numOut where none does. Without input dilation there is at most one:
// out·stride + w·dilation − padding = in fixes out on every axis.
func (t *windowTable) inverse() []int32 {
	inv := make([]int32, t.numIn*t.numWindow)
	for i := range inv {
		inv[i] = int32(t.numOut)
	}
	for p := range t.numOut {
		for w := range t.numWindow {
			if s := int(t.index[p*t.numWindow+w]); s < t.numIn {
				if inv[s*t.numWindow+w] != int32(t.numOut) {
					panic(fmt.Sprintf("window table: input %d read by outputs %d and %d at tap %d", s, inv[s*t.numWindow+w], p, w))
				}
				inv[s*t.numWindow+w] = int32(p)
			}
		}
	}
	return inv
}
