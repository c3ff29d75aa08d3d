package models

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/nn"
)

var backend = func() *engine.Backend {
	b, err := engine.New("")
	if err != nil {
		panic(err)
	}
	return b
}()

func images(n int) *tensors.Tensor {
	data := make([]float32, n*784)
	for i := range data {
		data[i] = float32(i%7) / 7
	}
	return tensors.FromFlatDataAndDimensions(data, n, 28, 28, 1)
}

func TestAutoencoderShapes(t *testing.T) {
	for _, kind := range []AEKind{AE, DAE, SparseAE, VAE, SubPixel, DenseAE} {
		cfg := DefaultAEConfig(kind)
		outs, err := context.ExecOnceN(backend, context.New(), func(ctx *context.Context, x *Node) []*Node {
			o := Autoencoder(ctx, cfg, x)
			res := []*Node{o.Logits, o.Code}
			if o.LogVar != nil {
				res = append(res, o.LogVar)
			}
			return res
		}, images(3))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := outs[0].Shape().Dimensions; len(got) != 4 || got[0] != 3 || got[1] != 28 || got[2] != 28 || got[3] != 1 {
			t.Errorf("%s: logits shape %v, want [3 28 28 1]", kind, got)
		}
		if got := outs[1].Shape().Dimensions; got[0] != 3 || got[1] != cfg.CodeSize {
			t.Errorf("%s: code shape %v, want [3 %d]", kind, got, cfg.CodeSize)
		}
		if (kind == VAE) != (len(outs) == 3) {
			t.Errorf("%s: %d outputs", kind, len(outs))
		}
	}
}

// TestHiddenLayer checks the --hidden option on the VAE: the latent mean, log-variance and logits keep
// their shapes, and exactly two dense layers of the given width appear, one each side of the code
// (encoder [7·7·C, H] before the code, decoder [code, H] after it); a spatial code or the dense AE
// with a hidden layer are refused.
func TestHiddenLayer(t *testing.T) {
	cfg := DefaultAEConfig(VAE)
	cfg.Hidden = 24
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	outs, err := context.ExecOnceN(backend, ctx, func(ctx *context.Context, x *Node) []*Node {
		o := Autoencoder(ctx, cfg, x)
		return []*Node{o.Logits, o.Code, o.LogVar}
	}, images(2))
	if err != nil {
		t.Fatal(err)
	}
	if got := outs[0].Shape().Dimensions; got[0] != 2 || got[1] != 28 || got[2] != 28 || got[3] != 1 {
		t.Errorf("logits shape %v, want [2 28 28 1]", got)
	}
	for i, name := range []string{"mean", "log-variance"} {
		if got := outs[1+i].Shape().Dimensions; got[0] != 2 || got[1] != 2 {
			t.Errorf("%s shape %v, want [2 2]", name, got)
		}
	}
	found := map[string][]int{}
	ctx.EnumerateVariables(func(v *context.Variable) {
		if dims := v.Shape().Dimensions; len(dims) == 2 && dims[1] == cfg.Hidden {
			found[v.Scope()] = dims
		}
	})
	want := map[string][]int{"/encoder/hidden/dense": {7 * 7 * cfg.Channels[1], cfg.Hidden}, "/decoder/hidden/dense": {cfg.CodeSize, cfg.Hidden}}
	for scope, dims := range want {
		if got := found[scope]; len(got) != 2 || got[0] != dims[0] || got[1] != dims[1] {
			t.Errorf("%s kernel %v, want %v (found %v)", scope, got, dims, found)
		}
	}
	if len(found) != len(want) {
		t.Errorf("dense layers of width %d: %v, want %v", cfg.Hidden, found, want)
	}
	// The layers after the hidden ones must read them, not the code or the feature map beside them.
	ctx.EnumerateVariables(func(v *context.Variable) {
		dims := v.Shape().Dimensions
		if len(dims) != 2 {
			return // biases
		}
		switch v.Scope() {
		case "/encoder/code/dense", "/encoder/logvar/dense", "/decoder/dense/dense":
			if dims[0] != cfg.Hidden {
				t.Errorf("%s kernel %v does not read the %d-wide hidden layer", v.Scope(), dims, cfg.Hidden)
			}
		}
	})
	spatial := DefaultAEConfig(DAE)
	spatial.SpatialCode, spatial.CodeSize, spatial.Hidden = true, 7*7*spatial.Channels[1], 64
	dense := DefaultAEConfig(DenseAE)
	dense.Hidden = 64
	negative := DefaultAEConfig(AE)
	negative.Hidden = -1
	for _, bad := range []AEConfig{spatial, dense, negative} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestSpatialCode checks the bottleneck-free option: the code is the encoder's 7×7 map (its values
// are the code), the network has no dense layer, and the options that cannot take it are refused.
func TestSpatialCode(t *testing.T) {
	cfg := DefaultAEConfig(DAE)
	cfg.SpatialCode, cfg.CodeSize = true, 7*7*cfg.Channels[1]
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.New()
	outs, err := context.ExecOnceN(backend, ctx, func(ctx *context.Context, x *Node) []*Node {
		o := Autoencoder(ctx, cfg, x)
		return []*Node{o.Logits, o.Code}
	}, images(2))
	if err != nil {
		t.Fatal(err)
	}
	if got := outs[0].Shape().Dimensions; got[0] != 2 || got[1] != 28 || got[2] != 28 || got[3] != 1 {
		t.Errorf("logits shape %v, want [2 28 28 1]", got)
	}
	if got := outs[1].Shape().Dimensions; got[0] != 2 || got[1] != 7*7*cfg.Channels[1] {
		t.Errorf("code shape %v, want [2 %d]", got, 7*7*cfg.Channels[1])
	}
	ctx.EnumerateVariables(func(v *context.Variable) {
		if dims := v.Shape().Dimensions; len(dims) == 2 {
			t.Errorf("dense layer %s %v in a spatial-code autoencoder", v.ScopeAndName(), dims)
		}
	})
	bad := cfg
	bad.CodeSize = 32
	if bad.Validate() == nil {
		t.Error("a spatial code of 32 values was accepted")
	}
	for _, kind := range []AEKind{VAE, DenseAE} {
		bad := DefaultAEConfig(kind)
		bad.SpatialCode, bad.CodeSize = true, 7*7*bad.Channels[1]
		if bad.Validate() == nil {
			t.Errorf("%s with a spatial code was accepted", kind)
		}
	}
}

func eval1(t *testing.T, fn func(g *Graph) *Node) []float64 {
	t.Helper()
	out, err := ExecOnce(backend, func(g *Graph) *Node { return ConvertDType(fn(g), dtypesFloat64) })
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float64](out)
}

func TestBCEAndKLOnHandComputedCases(t *testing.T) {
	// One image: logits 0 everywhere (p = 0.5) → BCE = 784·ln 2 whatever the target.
	got := eval1(t, func(g *Graph) *Node {
		return BCEPerImage(Zeros(g, shapeF64(1, 784)), Const(g, [][]float64{make([]float64, 784)}))
	})
	if want := 784 * math.Ln2; math.Abs(got[0]-want) > 1e-9 {
		t.Errorf("BCE(logit 0) = %v, want %v", got[0], want)
	}
	// Logit 2 against target 1: ln(1+e^−2) per pixel; against target 0: ln(1+e^2). Large logits stay finite.
	got = eval1(t, func(g *Graph) *Node {
		return BCEPerImage(Const(g, [][]float64{{2, 2, 100, -100}}), Const(g, [][]float64{{1, 0, 1, 1}}))
	})
	want := math.Log1p(math.Exp(-2)) + math.Log1p(math.Exp(2)) + math.Log1p(math.Exp(-100)) + 100
	if math.Abs(got[0]-want) > 1e-9 {
		t.Errorf("BCE = %v, want %v", got[0], want)
	}
	// KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − ln σ²): μ = (1, −2), σ² = (e, 1) → ½(1 + e − 1 − 1) + ½·4.
	got = eval1(t, func(g *Graph) *Node {
		return KLPerImage(Const(g, [][]float64{{1, -2}}), Const(g, [][]float64{{1, 0}}))
	})
	if want := 0.5*(1+math.E-1-1) + 0.5*4; math.Abs(got[0]-want) > 1e-9 {
		t.Errorf("KL = %v, want %v", got[0], want)
	}
	// The KL of the prior itself is 0.
	got = eval1(t, func(g *Graph) *Node { return KLPerImage(Zeros(g, shapeF64(1, 2)), Zeros(g, shapeF64(1, 2))) })
	if math.Abs(got[0]) > 1e-12 {
		t.Errorf("KL(prior) = %v, want 0", got[0])
	}
}

func TestNoiseFractions(t *testing.T) {
	ones := make([]float32, 100*784)
	for i := range ones {
		ones[i] = 1
	}
	x := tensors.FromFlatDataAndDimensions(ones, 100, 28, 28, 1)
	for _, level := range []float64{0.25, 0.3} {
		cfg := DefaultAEConfig(DAE)
		cfg.NoiseLevel = level
		ctx := context.New()
		ctx.SetParam("initializers_seed", int64(3))
		out, err := context.ExecOnce(backend, ctx, func(ctx *context.Context, x *Node) *Node { return Corrupt(ctx, cfg, x) }, x)
		if err != nil {
			t.Fatal(err)
		}
		zeros := 0
		for _, v := range tensors.MustCopyFlatData[float32](out) {
			if v == 0 {
				zeros++
			}
		}
		frac := float64(zeros) / float64(len(ones))
		if math.Abs(frac-level) > 0.01 { // 78,400 draws: σ ≈ 0.0016
			t.Errorf("mask noise %.2f zeroed %.4f of the pixels", level, frac)
		}
	}
	cfg := DefaultAEConfig(DAE)
	cfg.Noise, cfg.NoiseLevel = "gaussian", 0.5
	out, err := context.ExecOnce(backend, context.New(), func(ctx *context.Context, x *Node) *Node { return Corrupt(ctx, cfg, x) }, x)
	if err != nil {
		t.Fatal(err)
	}
	below := 0
	for _, v := range tensors.MustCopyFlatData[float32](out) {
		if v < 0 || v > 1 {
			t.Fatalf("gaussian noise not clipped: %v", v)
		}
		if v < 1 {
			below++
		}
	}
	// Adding N(0, 0.25) to 1 and clipping: half the pixels fall below 1.
	if frac := float64(below) / float64(len(ones)); math.Abs(frac-0.5) > 0.01 {
		t.Errorf("gaussian noise moved %.4f of the pixels below 1, want 0.5", frac)
	}
}

func TestSquashKeepsZeroFinite(t *testing.T) {
	got := eval1(t, func(g *Graph) *Node { return Squash(Const(g, [][]float64{{0, 0}, {3, 4}}), -1) })
	// ‖(3,4)‖ = 5 → scale 25/26, direction (0.6, 0.8).
	want := []float64{0, 0, 25.0 / 26 * 0.6, 25.0 / 26 * 0.8}
	for i := range want {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("squash[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestCodeBitsHandComputed: with the entropy model as initialised (mean 0, scale = the bin width q),
// a code value x costs −log2(σ((x + q/2)/q) − σ((x − q/2)/q)) bits; far tails stay finite (capped at
// −log2 1e−9) and the sum runs over the code.
func TestCodeBitsHandComputed(t *testing.T) {
	cfg := AEConfig{Kind: AE, CodeSize: 3, QuantNoise: 4}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	bitsOf := func(x float64) float64 { return -math.Log2(sig((x+2)/4) - sig((x-2)/4)) }
	outs, err := context.ExecOnceN(backend, context.New(), func(ctx *context.Context, z *Node) []*Node {
		return []*Node{CodeBits(ctx, cfg, z)}
	}, [][]float64{{0, 4, -8}, {12, 0, 400}})
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].Value().([]float64)
	want := []float64{bitsOf(0) + bitsOf(4) + bitsOf(-8), bitsOf(12) + bitsOf(0) + -math.Log2(1e-9)}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("image %d: %v bits, want %v", i, got[i], want[i])
		}
	}
}

// TestSubPixelStartsAsTransposedConv checks transposedAsSubPixel: the 3×3 sub-pixel kernel it makes
// from a 4×4 kernel gives, after the periodic shuffle, what the 4×4 stride-2 "same" transposed
// convolution gives (so the sub-pixel AE starts where the transposed-convolution AE starts).
func TestSubPixelStartsAsTransposedConv(t *testing.T) {
	const h, w, ci, co = 5, 4, 3, 2
	fill := func(g *Graph, seed float64, dims ...int) *Node {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Sin(seed*float64(i+1)) + 0.1*float64(i%5)
		}
		return Const(g, tensors.FromFlatDataAndDimensions(v, dims...))
	}
	deconv := eval1(t, func(g *Graph) *Node {
		return nn.ConvTransposeSame(fill(g, 0.7, 1, h, w, ci), fill(g, 1.3, 4, 4, ci, co), 2)
	})
	subpixel := eval1(t, func(g *Graph) *Node {
		y := Convolve(fill(g, 0.7, 1, h, w, ci), transposedAsSubPixel(fill(g, 1.3, 4, 4, ci, co))).PadSame().Done()
		return nn.DepthToSpace(y, 2)
	})
	if len(deconv) != 2*h*2*w*co || len(subpixel) != len(deconv) {
		t.Fatalf("sizes %d and %d, want %d", len(deconv), len(subpixel), 2*h*2*w*co)
	}
	for i := range deconv {
		if math.Abs(deconv[i]-subpixel[i]) > 1e-12 {
			t.Fatalf("value %d: sub-pixel %v, transposed convolution %v", i, subpixel[i], deconv[i])
		}
	}
}
