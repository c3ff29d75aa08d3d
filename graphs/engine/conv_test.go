package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// naiveConv2D: x [B,H,W,C] (NHWC), k [kh,kw,C,O]; explicit padding, stride and kernel dilation.
func naiveConv2D(x, k array, stride, dilation int, pad [2][2]int) array {
	B, H, W, C := x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]
	kh, kw, O := k.Dims[0], k.Dims[1], k.Dims[3]
	effH, effW := (kh-1)*dilation+1, (kw-1)*dilation+1
	Ho := (H+pad[0][0]+pad[0][1]-effH)/stride + 1
	Wo := (W+pad[1][0]+pad[1][1]-effW)/stride + 1
	out := array{Dims: []int{B, Ho, Wo, O}, Data: make([]float64, B*Ho*Wo*O)}
	for b := range B {
		for i := range Ho {
			for j := range Wo {
				for o := range O {
					s := 0.0
					for di := range kh {
						for dj := range kw {
							y := i*stride + di*dilation - pad[0][0]
							xx := j*stride + dj*dilation - pad[1][0]
							if y < 0 || y >= H || xx < 0 || xx >= W {
								continue
							}
							for c := range C {
								s += x.Data[((b*H+y)*W+xx)*C+c] * k.Data[((di*kw+dj)*C+c)*O+o]
							}
						}
					}
					out.Data[((b*Ho+i)*Wo+j)*O+o] = s
				}
			}
		}
	}
	return out
}

func TestConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		b, h, w, c, o, k, stride, dilation int
		same                               bool
	}{
		{2, 7, 9, 3, 4, 3, 1, 1, true},
		{2, 8, 7, 2, 3, 3, 2, 1, true},
		{1, 9, 9, 2, 3, 3, 2, 1, false},
		{2, 11, 10, 1, 2, 5, 1, 1, false},
		{1, 13, 12, 2, 2, 9, 2, 1, false}, // CapsNet's 9×9 stride 2 primary capsules, shrunk
		{1, 10, 10, 2, 2, 9, 1, 1, true},
		{2, 9, 8, 2, 3, 3, 1, 2, false}, // kernel dilation
		// Fewer output than input channels at stride 1: multiply-first (windowTable.multiplyFirst).
		{2, 7, 6, 5, 2, 3, 1, 1, true},    // DenseNet's BN-ReLU-conv3×3, shrunk
		{2, 6, 5, 4, 3, 1, 1, 1, false},   // DenseNet's transition 1×1
		{1, 8, 9, 4, 2, 3, 1, 2, true},    // kernel dilation
		{2, 7, 7, 4, 1, 2, 1, 1, true},    // even window: padding 0 before, 1 after
		{1, 12, 12, 4, 2, 3, 1, 1, false}, // valid: 100 outputs for 144 inputs, still multiply-first
		{2, 8, 7, 5, 2, 3, 2, 1, true},    // stride 2: im2col again
	}
	for _, tc := range cases {
		name := fmt.Sprintf("x%dx%dx%dx%d_k%d_o%d_s%d_d%d_same%v", tc.b, tc.h, tc.w, tc.c, tc.k, tc.o, tc.stride, tc.dilation, tc.same)
		t.Run(name, func(t *testing.T) {
			x := randArray(rng, tc.b, tc.h, tc.w, tc.c)
			k := randArray(rng, tc.k, tc.k, tc.c, tc.o)
			conv := func(in []*Node) *Node {
				c := Convolve(in[0], in[1]).Strides(tc.stride).Dilations(tc.dilation)
				if tc.same {
					c = c.PadSame()
				} else {
					c = c.NoPadding()
				}
				return c.Done()
			}
			var pad [2][2]int
			if tc.same {
				// GoMLX's PadSame pads (k-1)/2 before and k/2 after, whatever the stride.
				eff := (tc.k-1)*tc.dilation + 1
				pad = [2][2]int{{(eff - 1) / 2, eff / 2}, {(eff - 1) / 2, eff / 2}}
			}
			table, err := newWindowTable([]int{tc.h, tc.w}, []int{tc.k, tc.k}, []int{tc.stride, tc.stride}, [][2]int{pad[0], pad[1]}, nil, []int{tc.dilation, tc.dilation})
			if err != nil {
				t.Fatal(err)
			}
			wantMF := tc.o < tc.c && tc.stride == 1
			if got := table.multiplyFirst(tc.c, tc.o, nil); got != wantMF {
				t.Errorf("multiplyFirst = %v, want %v", got, wantMF)
			}
			got := run(t, conv, x, k)
			want := naiveConv2D(x, k, tc.stride, tc.dilation, pad)
			checkClose(t, name, got, want, 1e-12)
			checkGradients(t, name, conv, x, k)
		})
	}
}
