package engine

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// Batch normalization is missing from simplego (GoMLX's batchnorm layer calls these ops directly).
// All three are composed from reductions and element-wise ops; statistics use the biased variance,
// as XLA's BatchNormTraining does.

// reduceAxesAndCount returns every axis but featureAxis, and how many elements each feature averages.
func (b *Builder) reduceAxesAndCount(x backends.Op, featureAxis int) (axes []int, count int, featDims []int) {
	s := b.shape(x)
	count = 1
	featDims = make([]int, s.Rank())
	for a, d := range s.Dimensions {
		featDims[a] = 1
		if a == featureAxis {
			featDims[a] = d
			continue
		}
		axes = append(axes, a)
		count *= d
	}
	return axes, count, featDims
}

// toFeature reshapes a [features] vector so it broadcasts against x along featureAxis, then broadcasts.
func (b *Builder) toFeature(v backends.Op, featDims, fullDims []int) backends.Op {
	v = b.reshape(v, featDims...)
	bcastAxes := make([]int, len(fullDims))
	for i := range bcastAxes {
		bcastAxes[i] = i
	}
	return must(b.Builder.BroadcastInDim(v, shapeLike(b.shape(v), fullDims), bcastAxes))
}

func (b *Builder) BatchNormForTraining(operand, scale, offset backends.Op, epsilon float32, featureAxis int) (normalized, mean, variance backends.Op, err error) {
	defer catch("BatchNormForTraining", &err)
	s := b.shape(operand)
	axes, count, featDims := b.reduceAxesAndCount(operand, featureAxis)
	invCount := b.scalar(s.DType, 1/float64(count))
	mean = must(b.Builder.Mul(must(b.Builder.ReduceSum(operand, axes...)), invCount))
	centered := must(b.Builder.Sub(operand, b.toFeature(mean, featDims, s.Dimensions)))
	variance = must(b.Builder.Mul(must(b.Builder.ReduceSum(must(b.Builder.Mul(centered, centered)), axes...)), invCount))
	normalized = b.normalize(centered, scale, offset, variance, epsilon, featDims, s.Dimensions)
	return normalized, mean, variance, nil
}

func (b *Builder) BatchNormForInference(operand, scale, offset, mean, variance backends.Op, epsilon float32, featureAxis int) (out backends.Op, err error) {
	defer catch("BatchNormForInference", &err)
	s := b.shape(operand)
	_, _, featDims := b.reduceAxesAndCount(operand, featureAxis)
	centered := must(b.Builder.Sub(operand, b.toFeature(mean, featDims, s.Dimensions)))
	return b.normalize(centered, scale, offset, variance, epsilon, featDims, s.Dimensions), nil
}

// normalize returns centered·scale/sqrt(variance+ε) + offset, folding scale into the per-feature factor.
func (b *Builder) normalize(centered, scale, offset, variance backends.Op, epsilon float32, featDims, dims []int) backends.Op {
	dtype := b.shape(centered).DType
	rstd := must(b.Builder.Rsqrt(must(b.Builder.Add(variance, b.scalar(dtype, float64(epsilon))))))
	factor := must(b.Builder.Mul(rstd, scale))
	y := must(b.Builder.Mul(centered, b.toFeature(factor, featDims, dims)))
	return must(b.Builder.Add(y, b.toFeature(offset, featDims, dims)))
}

// BatchNormGradient follows XLA's BatchNormGrad: with x̂ = (x-μ)·rstd,
// dOffset = Σ dy, dScale = Σ dy·x̂, dx = scale·rstd/N · (N·dy − dOffset − x̂·dScale).
func (b *Builder) BatchNormGradient(operand, scale, mean, variance, gradOutput backends.Op, epsilon float32, featureAxis int) (gradOperand, gradScale, gradOffset backends.Op, err error) {
	defer catch("BatchNormGradient", &err)
	s := b.shape(operand)
	dtype := s.DType
	axes, count, featDims := b.reduceAxesAndCount(operand, featureAxis)
	rstd := must(b.Builder.Rsqrt(must(b.Builder.Add(variance, b.scalar(dtype, float64(epsilon))))))
	centered := must(b.Builder.Sub(operand, b.toFeature(mean, featDims, s.Dimensions)))
	xhat := must(b.Builder.Mul(centered, b.toFeature(rstd, featDims, s.Dimensions)))
	gradOffset = must(b.Builder.ReduceSum(gradOutput, axes...))
	gradScale = must(b.Builder.ReduceSum(must(b.Builder.Mul(gradOutput, xhat)), axes...))
	n := b.scalar(dtype, float64(count))
	term := must(b.Builder.Mul(gradOutput, n))
	term = must(b.Builder.Sub(term, b.toFeature(gradOffset, featDims, s.Dimensions)))
	term = must(b.Builder.Sub(term, must(b.Builder.Mul(xhat, b.toFeature(gradScale, featDims, s.Dimensions)))))
	factor := must(b.Builder.Div(must(b.Builder.Mul(scale, rstd)), n))
	gradOperand = must(b.Builder.Mul(term, b.toFeature(factor, featDims, s.Dimensions)))
	return gradOperand, gradScale, gradOffset, nil
}

func shapeLike(s shapes.Shape, dims []int) shapes.Shape { return shapes.Make(s.DType, dims...) }
