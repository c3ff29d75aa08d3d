package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck

	"github.com/mnistzip/mnistzip/graphs/engine"
	gc "github.com/mnistzip/mnistzip/graphs/internal/gradcheck"
)

func init() {
	b, err := engine.New("")
	if err != nil {
		panic(err)
	}
	gc.Backend = b
}

// naiveConvTranspose2D with PyTorch semantics: y[i·s + w − p] += x[i]·k[w].
func naiveConvTranspose2D(x, k gc.Array, s, p int, out [2]int) gc.Array {
	B, H, W, C := x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]
	kh, kw, O := k.Dims[0], k.Dims[1], k.Dims[3]
	y := gc.Array{Dims: []int{B, out[0], out[1], O}, Data: make([]float64, B*out[0]*out[1]*O)}
	for b := range B {
		for i := range H {
			for j := range W {
				for di := range kh {
					for dj := range kw {
						yi, yj := i*s+di-p, j*s+dj-p
						if yi < 0 || yi >= out[0] || yj < 0 || yj >= out[1] {
							continue
						}
						for c := range C {
							for o := range O {
								y.Data[((b*out[0]+yi)*out[1]+yj)*O+o] += x.Data[((b*H+i)*W+j)*C+c] * k.Data[((di*kw+dj)*C+c)*O+o]
							}
						}
					}
				}
			}
		}
	}
	return y
}

func TestConvTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct{ h, w, k, s, p, outH, outW int }{
		{4, 3, 3, 2, 1, 8, 6},  // "same" ×2 (output_padding 1)
		{3, 3, 4, 2, 1, 6, 6},  // k=4 s=2 p=1: the DCGAN upsampler
		{3, 4, 3, 1, 1, 3, 4},  // stride 1
		{2, 3, 5, 3, 0, 8, 11}, // valid: (in−1)·s + k
	} {
		name := fmt.Sprintf("in%dx%d_k%d_s%d_p%d", tc.h, tc.w, tc.k, tc.s, tc.p)
		t.Run(name, func(t *testing.T) {
			x := gc.Rand(rng, 2, tc.h, tc.w, 3)
			k := gc.Rand(rng, tc.k, tc.k, 3, 2)
			f := func(in []*Node) *Node {
				return ConvTranspose(in[0], in[1], []int{tc.s, tc.s}, []int{tc.p, tc.p}, []int{tc.outH, tc.outW})
			}
			gc.CheckClose(t, name, gc.Run(t, f, x, k), naiveConvTranspose2D(x, k, tc.s, tc.p, [2]int{tc.outH, tc.outW}), 1e-12)
			gc.CheckGradients(t, name, f, x, k)
		})
	}
}

// TestSubPixelEqualsTransposedConv checks the claim of Shi et al. 2016, "Is the deconvolution layer
// the same as a convolutional layer?": a stride-r transposed convolution with a (k·r)×(k·r) kernel
// equals a k×k convolution in low resolution producing r² times the channels, followed by the periodic
// shuffle, once the kernel is rearranged: K'[j, c, (a, o)] = K[(k−1−j)·r + a, c, o] per spatial axis.
func TestSubPixelEqualsTransposedConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, r := range []int{2, 3} {
		for _, k := range []int{1, 2, 3} {
			name := fmt.Sprintf("r%d_k%d", r, k)
			t.Run(name, func(t *testing.T) {
				const h, w, ci, co = 4, 5, 2, 3
				P := (k - 1) / 2 // low-resolution padding before; the transposed conv's padLo is P·r
				x := gc.Rand(rng, 1, h, w, ci)
				big := gc.Rand(rng, k*r, k*r, ci, co)
				// Rearranged low-resolution kernel [k, k, ci, r·r·co], channel (a_h·r + a_w)·co + o.
				small := gc.Array{Dims: []int{k, k, ci, r * r * co}, Data: make([]float64, k*k*ci*r*r*co)}
				for jh := range k {
					for jw := range k {
						for ah := range r {
							for aw := range r {
								for c := range ci {
									for o := range co {
										src := ((((k-1-jh)*r+ah)*(k*r)+(k-1-jw)*r+aw)*ci+c)*co + o
										dst := ((jh*k+jw)*ci+c)*(r*r*co) + (ah*r+aw)*co + o
										small.Data[dst] = big.Data[src]
									}
								}
							}
						}
					}
				}
				deconv := gc.Run(t, func(in []*Node) *Node {
					return ConvTranspose(in[0], in[1], []int{r, r}, []int{P * r, P * r}, []int{h * r, w * r})
				}, x, big)
				subpixel := gc.Run(t, func(in []*Node) *Node {
					lo, hi := k-1-P, P
					y := Convolve(in[0], in[1]).PaddingPerDim([][2]int{{lo, hi}, {lo, hi}}).Done()
					return DepthToSpace(y, r)
				}, x, small)
				gc.CheckClose(t, name, subpixel, deconv, 1e-12)
			})
		}
	}
}

func TestDepthToSpace(t *testing.T) {
	// 1×1×1×4 with r=2 → 1×2×2×1, channels in row-major (a, b) order.
	x := gc.Array{Dims: []int{1, 1, 1, 4}, Data: []float64{1, 2, 3, 4}}
	y := gc.Run(t, func(in []*Node) *Node { return DepthToSpace(in[0], 2) }, x)
	gc.CheckClose(t, "DepthToSpace", y, gc.Array{Dims: []int{1, 2, 2, 1}, Data: []float64{1, 2, 3, 4}}, 0)
	rng := rand.New(rand.NewPCG(3, 3))
	gc.CheckGradients(t, "DepthToSpace", func(in []*Node) *Node { return DepthToSpace(in[0], 2) }, gc.Rand(rng, 2, 3, 2, 8))
}
