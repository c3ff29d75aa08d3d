package engine

import (
	"github.com/gomlx/gomlx/backends"
)

// Pad is missing from simplego. It is composed per axis: interior padding by appending a block of fill
// values after every element and reshaping; edge padding by concatenating fill blocks; negative padding
// by slicing. GoMLX uses Pad for the gradients of Slice and of mean/sum pooling.
func (b *Builder) Pad(x, fillValue backends.Op, axesConfig ...backends.PadAxis) (out backends.Op, err error) {
	defer catch("Pad", &err)
	out = x
	for axis, cfg := range axesConfig {
		if cfg.Interior > 0 {
			out = b.padInterior(out, fillValue, axis, cfg.Interior)
		}
		if cfg.Start < 0 || cfg.End < 0 {
			s := b.shape(out)
			starts := make([]int, s.Rank())
			limits := append([]int{}, s.Dimensions...)
			if cfg.Start < 0 {
				starts[axis] = -cfg.Start
			}
			if cfg.End < 0 {
				limits[axis] += cfg.End
			}
			out = must(b.Builder.Slice(out, starts, limits, onesIfEmpty(nil, s.Rank())))
		}
		parts := make([]backends.Op, 0, 3)
		if cfg.Start > 0 {
			parts = append(parts, b.fillBlock(out, fillValue, axis, cfg.Start))
		}
		parts = append(parts, out)
		if cfg.End > 0 {
			parts = append(parts, b.fillBlock(out, fillValue, axis, cfg.End))
		}
		if len(parts) > 1 {
			out = must(b.Builder.Concatenate(axis, parts...))
		}
	}
	return out, nil
}

// fillBlock returns a block shaped like x except that axis has size n, filled with fill.
func (b *Builder) fillBlock(x, fill backends.Op, axis, n int) backends.Op {
	dims := append([]int{}, b.shape(x).Dimensions...)
	dims[axis] = n
	return b.full(fill, dims...)
}

// padInterior inserts n fill values between consecutive elements along axis.
func (b *Builder) padInterior(x, fill backends.Op, axis, n int) backends.Op {
	dims := b.shape(x).Dimensions
	size := dims[axis]
	if size <= 1 {
		return x
	}
	// [..., size, ...] → [..., size, 1, ...] ++ fill [..., size, n, ...] → [..., size·(1+n), ...] → drop last n.
	expanded := append(append(append([]int{}, dims[:axis+1]...), 1), dims[axis+1:]...)
	xe := b.reshape(x, expanded...)
	block := b.fillBlock(xe, fill, axis+1, n)
	joined := must(b.Builder.Concatenate(axis+1, xe, block))
	merged := append([]int{}, dims...)
	merged[axis] = size * (1 + n)
	flat := b.reshape(joined, merged...)
	limits := append([]int{}, merged...)
	limits[axis] = size*(1+n) - n
	return must(b.Builder.Slice(flat, make([]int, len(dims)), limits, onesIfEmpty(nil, len(dims))))
}

// Reverse is missing from simplego (GoMLX's convolution gradient reverses the kernel). Each reversed
// axis is one Gather with descending indices.
func (b *Builder) Reverse(x backends.Op, axes ...int) (out backends.Op, err error) {
	defer catch("Reverse", &err)
	out = x
	for _, axis := range axes {
		s := b.shape(out)
		n := s.Dimensions[axis]
		if n <= 1 {
			continue
		}
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(n - 1 - i)
		}
		sliceSizes := append([]int{}, s.Dimensions...)
		sliceSizes[axis] = 1
		offsetAxes := make([]int, 0, s.Rank()-1)
		for a := range s.Rank() {
			if a != axis {
				offsetAxes = append(offsetAxes, a)
			}
		}
		out = must(b.Builder.Gather(out, b.indexConstant(idx, n, 1), 1, offsetAxes, []int{axis}, []int{axis}, sliceSizes, false))
	}
	return out, nil
}
