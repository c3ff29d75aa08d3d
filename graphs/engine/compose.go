package engine

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// The filled-in ops are compositions of simplego ops. Each simplego call returns (Op, error); to keep
// the compositions readable, helpers panic with a composeError and the exported op recovers it.

type composeError struct{ err error }

// catch turns a composeError panic into the op's returned error.
func catch(opName string, err *error) {
	if r := recover(); r != nil {
		ce, ok := r.(composeError)
		if !ok {
			panic(r)
		}
		*err = fmt.Errorf("engine %s: %w", opName, ce.err)
	}
}

func must(op backends.Op, err error) backends.Op {
	if err != nil {
		panic(composeError{err})
	}
	return op
}

func fail(format string, args ...any) {
	panic(composeError{fmt.Errorf(format, args...)})
}

func (b *Builder) shape(op backends.Op) shapes.Shape {
	s, err := b.Builder.OpShape(op)
	if err != nil {
		panic(composeError{err})
	}
	return s
}

// scalar returns a constant scalar of dtype with value v.
func (b *Builder) scalar(dtype dtypes.DType, v float64) backends.Op {
	switch dtype {
	case dtypes.Float32:
		return must(b.Builder.Constant([]float32{float32(v)}))
	case dtypes.Float64:
		return must(b.Builder.Constant([]float64{v}))
	case dtypes.Int32:
		return must(b.Builder.Constant([]int32{int32(v)}))
	case dtypes.Int64:
		return must(b.Builder.Constant([]int64{int64(v)}))
	default:
		fail("dtype %s not supported", dtype)
		return nil
	}
}

// full returns a tensor of the given shape filled with the scalar op fill.
func (b *Builder) full(fill backends.Op, dims ...int) backends.Op {
	if len(dims) == 0 {
		return fill
	}
	s := b.shape(fill)
	if s.Rank() != 0 {
		fail("full needs a scalar fill value, got %s", s)
	}
	return must(b.Builder.BroadcastInDim(fill, shapes.Make(s.DType, dims...), nil))
}

// indexConstant returns an int32 constant of the given dims.
func (b *Builder) indexConstant(flat []int32, dims ...int) backends.Op {
	return must(b.Builder.Constant(flat, dims...))
}

func isIdentityPermutation(perm []int) bool {
	for i, p := range perm {
		if i != p {
			return false
		}
	}
	return true
}

func (b *Builder) transpose(op backends.Op, perm ...int) backends.Op {
	if isIdentityPermutation(perm) {
		return op
	}
	return must(b.Builder.Transpose(op, perm...))
}

func (b *Builder) reshape(op backends.Op, dims ...int) backends.Op {
	s := b.shape(op)
	if len(s.Dimensions) == len(dims) {
		same := true
		for i, d := range dims {
			if s.Dimensions[i] != d {
				same = false
				break
			}
		}
		if same {
			return op
		}
	}
	return must(b.Builder.Reshape(op, dims...))
}

func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}

// onesIfEmpty returns n ones when values is empty (GoMLX passes nil for "all 1").
func onesIfEmpty(values []int, n int) []int {
	if len(values) > 0 {
		return values
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
