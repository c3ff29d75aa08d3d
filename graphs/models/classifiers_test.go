package models

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

func TestSquashNormsBelowOne(t *testing.T) {
	got := eval1(t, func(g *Graph) *Node {
		s := Const(g, [][]float64{{1e-9, 0, 0}, {0.3, -0.4, 0}, {100, 200, -300}, {0, 0, 0}})
		return Sqrt(ReduceSum(Square(Squash(s, -1)), -1))
	})
	for i, n := range got {
		if math.IsNaN(n) || n >= 1 || n < 0 {
			t.Errorf("norm of squash(row %d) = %v, want in [0, 1)", i, n)
		}
	}
	if math.Abs(got[1]-0.25/1.25) > 1e-6 { // the epsilon inside the square root shifts it by ~1e-7 // ‖s‖ = 0.5 → ‖v‖ = 0.25/1.25
		t.Errorf("‖squash(s)‖ = %v for ‖s‖ = 0.5, want 0.2", got[1])
	}
	// Gradient at zero is finite too.
	grad := eval1(t, func(g *Graph) *Node {
		s := Zeros(g, shapeF64(2, 3))
		return Gradient(ReduceAllSum(Squash(s, -1)), s)[0]
	})
	for _, v := range grad {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("gradient of squash at 0 is %v", v)
		}
	}
}

// TestRouting builds predictions where primary capsule 0 agrees with digit capsule 2 (its prediction
// points the same way as the consensus there) and checks couplings sum to 1 over digit capsules and
// move toward the agreeing digit.
func TestRouting(t *testing.T) {
	// batch 1, 3 primary capsules, 4 digit capsules, 2-D. All primaries predict (1, 0) for digit 2;
	// for the other digits their predictions disagree with each other (they cancel).
	uHat := make([]float64, 3*4*2)
	set := func(i, j int, x, y float64) { uHat[(i*4+j)*2], uHat[(i*4+j)*2+1] = x, y }
	for i := range 3 {
		set(i, 2, 1, 0)
		for _, j := range []int{0, 1, 3} {
			angle := float64(i) * 2 * math.Pi / 3
			set(i, j, math.Cos(angle), math.Sin(angle))
		}
	}
	out, err := ExecOnce(backend, func(u *Node) *Node {
		_, c := Route(u, 3)
		return c
	}, tensors.FromFlatDataAndDimensions(uHat, 1, 3, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	c := tensors.MustCopyFlatData[float64](out) // [1, 3, 4]
	for i := range 3 {
		sum := 0.0
		for j := range 4 {
			sum += c[i*4+j]
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("couplings of primary %d sum to %v over digit capsules, want 1", i, sum)
		}
		// Couplings start uniform (1/4); routing must move them toward the agreeing digit.
		for j := range 4 {
			if j != 2 && c[i*4+2] <= c[i*4+j]+0.1 {
				t.Errorf("primary %d couples %.3f to the digit it agrees with and %.3f to digit %d", i, c[i*4+2], c[i*4+j], j)
			}
		}
	}
}

func TestMarginLossHandComputed(t *testing.T) {
	// Lengths (0.95, 0.5, 0.05) with true class 0 over 3 classes: present term max(0, 0.9−0.95)² = 0;
	// absent: 0.5·(0.5−0.1)² + 0.5·0 = 0.08. Reconstruction equal to the image adds 0.
	got := eval1(t, func(g *Graph) *Node {
		lengths := Const(g, [][]float64{{0.95, 0.5, 0.05, 0, 0, 0, 0, 0, 0, 0}})
		img := Zeros(g, shapeF64(1, 28, 28, 1))
		out := CapsNetOutputs{Lengths: lengths, Reconstruction: Zeros(g, shapeF64(1, 784))}
		return CapsNetLoss(out, Const(g, []int32{0}), img)
	})
	if want := 0.5 * 0.4 * 0.4; math.Abs(got[0]-want) > 1e-9 {
		t.Errorf("margin loss %v, want %v", got[0], want)
	}
	// A short true capsule: length 0.4 for the true class 1 → (0.9−0.4)² = 0.25; reconstruction
	// error of 1 on 4 pixels adds 0.0005·4.
	got = eval1(t, func(g *Graph) *Node {
		lengths := Const(g, [][]float64{{0, 0.4, 0, 0, 0, 0, 0, 0, 0, 0}})
		img := Zeros(g, shapeF64(1, 28, 28, 1))
		recon := make([]float64, 784)
		recon[0], recon[1], recon[2], recon[3] = 1, 1, 1, 1
		out := CapsNetOutputs{Lengths: lengths, Reconstruction: Const(g, [][]float64{recon})}
		return CapsNetLoss(out, Const(g, []int32{1}), img)
	})
	if want := 0.25 + 0.0005*4; math.Abs(got[0]-want) > 1e-9 {
		t.Errorf("loss %v, want %v", got[0], want)
	}
}

func TestMaskCapsules(t *testing.T) {
	// 2 examples, 3 capsules of 2-D.
	v := [][][]float64{{{1, 1}, {2, 2}, {3, 3}}, {{4, 4}, {5, 5}, {6, 6}}}
	lengths := [][]float64{{0.1, 0.9, 0.2}, {0.8, 0.1, 0.3}}
	byLabel := eval1(t, func(g *Graph) *Node { return MaskCapsules(Const(g, v), Const(g, lengths), Const(g, []int32{2, 1})) })
	byLength := eval1(t, func(g *Graph) *Node { return MaskCapsules(Const(g, v), Const(g, lengths), nil) })
	wantLabel := []float64{0, 0, 0, 0, 3, 3, 0, 0, 5, 5, 0, 0}
	wantLength := []float64{0, 0, 2, 2, 0, 0, 4, 4, 0, 0, 0, 0}
	for i := range wantLabel {
		if byLabel[i] != wantLabel[i] || byLength[i] != wantLength[i] {
			t.Fatalf("masked by label %v (want %v), by length %v (want %v)", byLabel, wantLabel, byLength, wantLength)
		}
	}
}

func TestDenseNetChannels(t *testing.T) {
	cfg := DenseNetConfig{Growth: 5, Blocks: 1, LayersPerBlock: 3, InitChannels: 7, Compression: 1}
	out, err := context.ExecOnce(backend, context.New(), func(ctx *context.Context, x *Node) *Node {
		return DenseBlock(ctx, cfg, x)
	}, tensors.FromFlatDataAndDimensions(make([]float32, 2*6*6*7), 2, 6, 6, 7))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.Shape().Dimensions[3], DenseNetBlockChannels(7, 3, 5); got != want || want != 22 {
		t.Errorf("dense block output has %d channels, want k0 + L·k = %d", got, want)
	}
	logits, err := context.ExecOnce(backend, context.New(), func(ctx *context.Context, x *Node) *Node {
		return DenseNet(ctx, DenseNetConfig{Growth: 4, Blocks: 3, LayersPerBlock: 2, InitChannels: 8, Compression: 0.5}, x)
	}, images(2))
	if err != nil {
		t.Fatal(err)
	}
	if d := logits.Shape().Dimensions; d[0] != 2 || d[1] != 10 {
		t.Errorf("DenseNet logits shape %v", d)
	}
	// The stem-pooled small preset: blocks at 14, 7 and 3 pixels, and every preset validates.
	for _, cfg := range []DenseNetConfig{DenseNetSmall, DenseNetPaper} {
		if err := cfg.Validate(); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
	logits, err = context.ExecOnce(backend, context.New(), func(ctx *context.Context, x *Node) *Node {
		return DenseNet(ctx, DenseNetSmall, x)
	}, images(2))
	if err != nil {
		t.Fatal(err)
	}
	if d := logits.Shape().Dimensions; d[0] != 2 || d[1] != 10 {
		t.Errorf("DenseNetSmall logits shape %v", d)
	}
	if err := (DenseNetConfig{Growth: 12, Blocks: 5, LayersPerBlock: 1, InitChannels: 24, Compression: 0.5, StemPool: true}).Validate(); err == nil {
		t.Error("5 blocks after stem pooling (28 → 14 → 7 → 3 → 1 → 0) accepted")
	}
}

func TestRandomShift(t *testing.T) {
	// A single bright pixel at (14, 14) moves by at most 2 on each axis and is never lost.
	img := make([]float32, 50*784)
	for b := range 50 {
		img[b*784+14*28+14] = 1
	}
	ctx := context.New()
	ctx.SetParam("initializers_seed", int64(5))
	out, err := context.ExecOnce(backend, ctx, func(ctx *context.Context, x *Node) *Node { return RandomShift(ctx, x, 2) },
		tensors.FromFlatDataAndDimensions(img, 50, 28, 28, 1))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out)
	moved := 0
	for b := range 50 {
		found := false
		for p, v := range got[b*784 : (b+1)*784] {
			if v == 1 {
				r, c := p/28, p%28
				if math.Abs(float64(r-14)) > 2 || math.Abs(float64(c-14)) > 2 {
					t.Fatalf("pixel moved to (%d, %d)", r, c)
				}
				found = true
				if r != 14 || c != 14 {
					moved++
				}
			}
		}
		if !found {
			t.Fatalf("image %d lost its pixel", b)
		}
	}
	if moved < 30 { // 24/25 of the shifts move it
		t.Errorf("only %d of 50 images shifted", moved)
	}
}

// TestPool2MatchesReduceWindow: the reshape-based poolings give MeanPool's and MaxPool's numbers, odd
// sizes included.
func TestPool2MatchesReduceWindow(t *testing.T) {
	for _, side := range []int{6, 7} {
		x := make([]float32, 2*side*side*3)
		for i := range x {
			x[i] = float32(i%17) - 8
		}
		out, err := context.ExecOnce(backend, context.New(), func(ctx *context.Context, x *Node) *Node {
			return Concatenate([]*Node{Sub(AvgPool2(x), MeanPool(x).Window(2).Done()), Sub(MaxPool2(x), MaxPool(x).Window(2).Done())}, -1)
		}, tensors.FromFlatDataAndDimensions(x, 2, side, side, 3))
		if err != nil {
			t.Fatal(err)
		}
		if d := out.Shape().Dimensions; d[1] != side/2 || d[2] != side/2 {
			t.Fatalf("side %d: shape %v", side, d)
		}
		for i, v := range tensors.MustCopyFlatData[float32](out) {
			if v > 1e-5 || v < -1e-5 {
				t.Fatalf("side %d: element %d differs by %g", side, i, v)
			}
		}
	}
}

// TestRoutingHandComputed pins Route on values: one iteration worked by hand, and three iterations
// against a plain-Go transcription of the paper's Procedure 1 (Sabour et al. 2017): b = 0; each
// iteration c_i = softmax over the parent (digit) capsules j of b_ij, s_j = Σ_i c_ij û_j|i,
// v_j = squash(s_j) = |s_j|²/(1+|s_j|²)·s_j/|s_j|, and, but after the last, b_ij += û_j|i·v_j.
// A softmax over the primaries instead, or one update of b too few, fails it.
func TestRoutingHandComputed(t *testing.T) {
	const nIn, nOut, dim = 3, 2, 2
	uHat := []float64{ // [primary i][digit j][dim]
		1, 0, 0, 1,
		2, 1, -1, 0,
		0.5, -0.5, 1, 1,
	}
	run := func(iterations int) (v, c []float64) {
		t.Helper()
		get := func(which int) []float64 {
			out, err := ExecOnce(backend, func(u *Node) *Node {
				v, c := Route(u, iterations)
				return []*Node{v, c}[which]
			}, tensors.FromFlatDataAndDimensions(uHat, 1, nIn, nOut, dim))
			if err != nil {
				t.Fatal(err)
			}
			return tensors.MustCopyFlatData[float64](out)
		}
		return get(0), get(1)
	}
	// One iteration: c = ½ everywhere, s_0 = ½·((1,0)+(2,1)+(0.5,−0.5)) = (1.75, 0.25), |s|² = 3.125,
	// v_0 = 3.125/4.125 · s/√3.125; s_1 = ½·((0,1)+(−1,0)+(1,1)) = (0, 1), v_1 = ½·(0, 1).
	v, c := run(1)
	k := 3.125 / 4.125 / math.Sqrt(3.125)
	want := []float64{1.75 * k, 0.25 * k, 0, 0.5}
	for i := range want { // 1e-6: squash divides by √(|s|² + 1e-7), not |s|
		if math.Abs(v[i]-want[i]) > 1e-6 {
			t.Fatalf("1 iteration: v %v, want %v", v, want)
		}
	}
	for _, x := range c {
		if x != 0.5 {
			t.Fatalf("1 iteration: couplings %v, want all ½", c)
		}
	}
	// Three iterations against the transcription.
	b := make([]float64, nIn*nOut)
	var refV, refC []float64
	for it := range 3 {
		refC = make([]float64, nIn*nOut)
		for i := range nIn {
			z := 0.0
			for j := range nOut {
				z += math.Exp(b[i*nOut+j])
			}
			for j := range nOut {
				refC[i*nOut+j] = math.Exp(b[i*nOut+j]) / z
			}
		}
		refV = make([]float64, nOut*dim)
		for j := range nOut {
			s := make([]float64, dim)
			for i := range nIn {
				for d := range dim {
					s[d] += refC[i*nOut+j] * uHat[(i*nOut+j)*dim+d]
				}
			}
			n2 := s[0]*s[0] + s[1]*s[1]
			for d := range dim {
				refV[j*dim+d] = n2 / (1 + n2) * s[d] / math.Sqrt(n2)
			}
		}
		if it < 2 {
			for i := range nIn {
				for j := range nOut {
					for d := range dim {
						b[i*nOut+j] += uHat[(i*nOut+j)*dim+d] * refV[j*dim+d]
					}
				}
			}
		}
	}
	v, c = run(3)
	for i := range refV {
		if math.Abs(v[i]-refV[i]) > 1e-6 {
			t.Errorf("3 iterations: v %v, want %v", v, refV)
			break
		}
	}
	for i := range refC {
		if math.Abs(c[i]-refC[i]) > 1e-6 {
			t.Errorf("3 iterations: couplings %v, want %v", c, refC)
			break
		}
	}
	t.Logf("3 iterations: v %.6f, couplings %.6f", v, c)
}
