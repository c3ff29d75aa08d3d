package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// naivePool2D: x [B,H,W,C], window k, stride s, no padding; max or mean.
func naivePool2D(x array, k, s int, isMax bool) array {
	B, H, W, C := x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]
	Ho, Wo := (H-k)/s+1, (W-k)/s+1
	out := array{Dims: []int{B, Ho, Wo, C}, Data: make([]float64, B*Ho*Wo*C)}
	for b := range B {
		for i := range Ho {
			for j := range Wo {
				for c := range C {
					acc := 0.0
					if isMax {
						acc = math.Inf(-1)
					}
					for di := range k {
						for dj := range k {
							v := x.Data[((b*H+i*s+di)*W+j*s+dj)*C+c]
							if isMax {
								acc = math.Max(acc, v)
							} else {
								acc += v / float64(k*k)
							}
						}
					}
					out.Data[((b*Ho+i)*Wo+j)*C+c] = acc
				}
			}
		}
	}
	return out
}

func TestPooling(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name       string
		k, s, h, w int
		isMax      bool
	}{
		{"max2x2s2", 2, 2, 8, 6, true},
		{"max3x3s2_overlapping", 3, 2, 9, 7, true},
		{"mean2x2s2", 2, 2, 8, 6, false},
		{"mean3x3s1", 3, 1, 7, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := randArray(rng, 2, tc.h, tc.w, 3)
			pool := func(in []*Node) *Node {
				p := MeanPool(in[0])
				if tc.isMax {
					p = MaxPool(in[0])
				}
				return p.Window(tc.k).Strides(tc.s).NoPadding().Done()
			}
			checkClose(t, tc.name, run(t, pool, x), naivePool2D(x, tc.k, tc.s, tc.isMax), 1e-12)
			checkGradients(t, tc.name, pool, x)
		})
	}
}

func TestSlicePadReverseConcatGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := randArray(rng, 3, 5, 4)
	y := randArray(rng, 3, 2, 4)
	checkGradients(t, "Slice", func(in []*Node) *Node {
		return Slice(in[0], AxisRange(1, 3), AxisRange(1, 5), AxisRange(0, 4).Stride(2))
	}, x)
	checkGradients(t, "Concatenate", func(in []*Node) *Node { return Concatenate([]*Node{in[0], in[1]}, 1) }, x, y)
	checkGradients(t, "Gather", func(in []*Node) *Node {
		idx := Const(in[0].Graph(), [][]int32{{2}, {0}, {2}})
		return Gather(in[0], idx)
	}, x)

	// Pad with edge, negative and interior padding, against a hand-computed result.
	small := array{Dims: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}}
	padded := run(t, func(in []*Node) *Node {
		return Pad(in[0], Scalar(in[0].Graph(), in[0].DType(), -1),
			backends.PadAxis{Start: 1, End: 0}, backends.PadAxis{Start: -1, End: 1, Interior: 1})
	}, small)
	want := array{Dims: []int{3, 5}, Data: []float64{
		-1, -1, -1, -1, -1,
		-1, 2, -1, 3, -1,
		-1, 5, -1, 6, -1,
	}}
	checkClose(t, "Pad", padded, want, 0)
	if len(padded.Dims) != 2 || padded.Dims[0] != 3 || padded.Dims[1] != 5 {
		t.Errorf("Pad dims = %v, want [3 5]", padded.Dims)
	}
	checkGradients(t, "Pad", func(in []*Node) *Node {
		return Pad(in[0], Scalar(in[0].Graph(), in[0].DType(), 0), backends.PadAxis{Start: 2, End: 1, Interior: 2}, backends.PadAxis{End: -1})
	}, x)

	rev := run(t, func(in []*Node) *Node { return Reverse(in[0], 0, 1) }, small)
	checkClose(t, "Reverse", rev, array{Dims: []int{2, 3}, Data: []float64{6, 5, 4, 3, 2, 1}}, 0)
	checkGradients(t, "Reverse", func(in []*Node) *Node { return Reverse(in[0], 1) }, x)
}

func TestSoftmaxReductionsDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	x := randArray(rng, 3, 4, 5)
	for axis := range 3 {
		checkGradients(t, "Softmax", func(in []*Node) *Node { return Softmax(in[0], axis) }, x)
	}
	checkGradients(t, "ReduceSum", func(in []*Node) *Node { return ReduceSum(in[0], 0, 2) }, x)
	checkGradients(t, "ReduceMax", func(in []*Node) *Node { return ReduceMax(in[0], 1) }, x)
	checkGradients(t, "ReduceMean", func(in []*Node) *Node { return ReduceMean(in[0], 2) }, x)

	a := randArray(rng, 5, 7)
	b := randArray(rng, 7, 3)
	checkGradients(t, "Dot matrix", func(in []*Node) *Node { return Dot(in[0], in[1]) }, a, b)
	v := randArray(rng, 7)
	checkGradients(t, "Dot matrix·vector", func(in []*Node) *Node { return Dot(in[0], in[1]) }, a, v)
	// DotGeneral with batch axes, contracting two axes in a different order on each side, free axes
	// on both sides: the shapes CapsNet's routing produces.
	l := randArray(rng, 2, 3, 4, 5) // batch 2; contract axes 1 (3) and 3 (5); free 4
	r := randArray(rng, 5, 2, 6, 3) // batch axis 1; contract 3 (3) and 0 (5); free 6
	checkGradients(t, "DotGeneral", func(in []*Node) *Node {
		return DotGeneral(in[0], []int{1, 3}, []int{0}, in[1], []int{3, 0}, []int{1})
	}, l, r)
	want := naiveDotGeneral(l, r)
	got := run(t, func(in []*Node) *Node {
		return DotGeneral(in[0], []int{1, 3}, []int{0}, in[1], []int{3, 0}, []int{1})
	}, l, r)
	checkClose(t, "DotGeneral", got, want, 1e-12)
}

// naiveDotGeneral for the layout in TestSoftmaxReductionsDot: out[b,f,g] = Σ_{i,j} l[b,i,f,j]·r[j,b,g,i].
func naiveDotGeneral(l, r array) array {
	out := array{Dims: []int{2, 4, 6}, Data: make([]float64, 2*4*6)}
	for b := range 2 {
		for f := range 4 {
			for g := range 6 {
				s := 0.0
				for i := range 3 {
					for j := range 5 {
						s += l.Data[((b*3+i)*4+f)*5+j] * r.Data[((j*2+b)*6+g)*3+i]
					}
				}
				out.Data[(b*4+f)*6+g] = s
			}
		}
	}
	return out
}

func TestBatchNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	x := randArray(rng, 4, 3, 2, 5)
	scale := randArray(rng, 5)
	offset := randArray(rng, 5)
	const eps = 1e-3
	train := func(in []*Node) *Node {
		y, _, _ := InternalBatchNormForTraining(in[0], in[1], in[2], eps, 3)
		return y
	}
	// Reference: per channel, biased variance.
	want := array{Dims: x.Dims, Data: make([]float64, len(x.Data))}
	for c := range 5 {
		mean, sq := 0.0, 0.0
		n := 0
		for i := c; i < len(x.Data); i += 5 {
			mean += x.Data[i]
			n++
		}
		mean /= float64(n)
		for i := c; i < len(x.Data); i += 5 {
			sq += (x.Data[i] - mean) * (x.Data[i] - mean)
		}
		variance := sq / float64(n)
		for i := c; i < len(x.Data); i += 5 {
			want.Data[i] = (x.Data[i]-mean)/math.Sqrt(variance+eps)*scale.Data[c] + offset.Data[c]
		}
	}
	checkClose(t, "BatchNormForTraining", run(t, train, x, scale, offset), want, 1e-9)
	checkGradients(t, "BatchNormForTraining", train, x, scale, offset)

	mean := randArray(rng, 5)
	variance := randArray(rng, 5)
	for i := range variance.Data {
		variance.Data[i] = math.Abs(variance.Data[i]) + 0.5
	}
	infer := run(t, func(in []*Node) *Node {
		return InternalBatchNormForInference(in[0], in[1], in[2], in[3], in[4], eps, 3)
	}, x, scale, offset, mean, variance)
	for i, v := range x.Data {
		c := i % 5
		want.Data[i] = (v-mean.Data[c])/math.Sqrt(variance.Data[c]+eps)*scale.Data[c] + offset.Data[c]
	}
	checkClose(t, "BatchNormForInference", infer, want, 1e-9)
}

// TestReflectedParams guards the reflection in gradients.go: if a GoMLX upgrade renames the fields,
// this fails instead of training silently going wrong.
func TestReflectedParams(t *testing.T) {
	g := NewGraph(testBackend, "params")
	l := Parameter(g, "l", tensors.FromValue([][][]float32{{{1}}}).Shape())
	r := Parameter(g, "r", tensors.FromValue([][][]float32{{{1}}}).Shape())
	n := DotGeneral(l, []int{2}, []int{0}, r, []int{1}, []int{0})
	if got := nodeIntsParam(n, "lhsContractingAxes"); len(got) != 1 || got[0] != 2 {
		t.Errorf("lhsContractingAxes = %v", got)
	}
	if got := nodeIntsParam(n, "rhsBatchAxes"); len(got) != 1 || got[0] != 0 {
		t.Errorf("rhsBatchAxes = %v", got)
	}
	g.Finalize()
}
