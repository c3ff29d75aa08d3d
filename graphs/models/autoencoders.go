package models

import (
	"encoding/json"
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"

	"github.com/mnistzip/mnistzip/graphs/nn"
)

// AEKind names the autoencoder family members.
type AEKind string

const (
	AE       AEKind = "ae"       // convolutional autoencoder, transposed-convolution decoder
	DAE      AEKind = "dae"      // denoising: trained on corrupted inputs against the clean image
	SparseAE AEKind = "sparse"   // L1 activity penalty on a ReLU code
	VAE      AEKind = "vae"      // variational, Gaussian latent (2-D by default)
	SubPixel AEKind = "subpixel" // decoder upsamples by low-resolution convolution + periodic shuffle
	DenseAE  AEKind = "dense"    // fully connected 784-512-code-512-784: the browser's quickest to train
)

// AEConfig configures one autoencoder; it is stored whole (JSON) in the weights' manifest. Zero
// values of CodeSize, Channels, Noise, NoiseLevel and L1 take the kind's defaults in Resolve. The
// flag tags name the command-line flags that set a field (native/ builds them from these tags; `for`
// lists the kinds a field applies to, all of them if absent).
type AEConfig struct {
	Kind     AEKind `json:"kind"`
	CodeSize int    `json:"code_size" flag:"code" min:"0" max:"65536" help:"code size (default 32; 2 for the VAE)"`
	Channels [2]int `json:"channels" flag:"channels" for:"ae,dae,sparse,vae,subpixel" min:"1" max:"1024" help:"the two encoder convolution widths (default 16,32)"` // decoder mirrors them
	// Denoising corruption: "mask" sets a fraction of pixels to 0, "gaussian" adds N(0, σ²) and clips.
	Noise      string  `json:"noise" flag:"noise" for:"dae" help:"corruption, mask or gaussian (default mask)"`
	NoiseLevel float64 `json:"noise_level" flag:"noise-level" for:"dae" min:"0" max:"10" help:"mask fraction (default 0.3) or Gaussian σ (default 0.5)"`
	L1         float64 `json:"l1" flag:"l1" for:"sparse" min:"0" max:"10" help:"L1 weight on the code activation (default 1e-3)"` // weight of the mean absolute code activation in the loss
	// QuantNoise, if > 0, adds uniform noise U(−q/2, q/2) to the code in training: the decoder learns
	// to decode codes rounded to multiples of q (the codec's lossy mode stores exactly those) and the
	// encoder to spread its code over several steps (the additive-noise proxy of quantization, Ballé
	// et al. 2017).
	QuantNoise float64 `json:"quant_noise,omitempty" flag:"quant-noise" min:"0" max:"10" help:"train with uniform noise of this width on the code (robust to the codec's quantization step)"`
	// Rate, if > 0, adds to the loss the code's rate: Rate × the bits per image of the noisy code
	// under a learned factorized entropy model (per code dimension a logistic density of learned
	// mean and scale, integrated over the quantization bin of width QuantNoise, as in Ballé et al.
	// 2017/2018), per pixel like the reconstruction loss. It trades nats of reconstruction for bits
	// of code, so the encoder cannot just scale its code past the noise. Needs QuantNoise.
	Rate float64 `json:"rate,omitempty" flag:"rate" for:"ae,subpixel" min:"0" max:"100" help:"weight of the code's bits per image in the loss, under a learned entropy model (needs --quant-noise: the codec's lossy step)"`
	// SpatialCode makes the code the encoder's last feature map itself, 7×7×Channels[1] values, with
	// no dense layer on either side: no bottleneck, as in Vincent et al.'s overcomplete denoising
	// autoencoders, where the corruption (not a narrow code) keeps the network from copying its input.
	// CodeSize must then be 49·Channels[1]. Not for the VAE or the dense AE.
	SpatialCode bool `json:"spatial_code,omitempty" flag:"spatial-code" for:"ae,dae,sparse,subpixel" help:"the code is the encoder's 7×7 feature map, no dense bottleneck (--code is then 49 × the second width)"`
	// Hidden, if > 0, puts a dense ReLU layer of this width between the encoder's 7×7 feature map and
	// the code, mirrored in the decoder. A 2-D VAE code otherwise reaches the decoder's feature map
	// through one affine map (then ReLU), which bends the latent plane very little; the hidden layer
	// gives it room to (the MLP VAEs of Kingma & Welling 2014 use one such layer). Measured: test
	// negative ELBO 166.6 → 146.3 nats (README, autoencoder targets).
	// Not with a spatial code or for the dense AE (which has its own hidden layers).
	Hidden int `json:"hidden,omitempty" flag:"hidden" for:"ae,dae,sparse,vae,subpixel" min:"0" max:"65536" help:"a dense ReLU layer of this width before the code, mirrored in the decoder (0: none)"`
}

// denseHidden is the width of the dense autoencoder's hidden layers (784-512-code-512-784, the
// TensorFlow.js peer's benchmark model).
const denseHidden = 512

// DefaultAEConfig returns the defaults for kind.
func DefaultAEConfig(kind AEKind) AEConfig {
	c := AEConfig{Kind: kind, CodeSize: 32, Channels: [2]int{16, 32}}
	switch kind {
	case VAE:
		c.CodeSize = 2
	case DAE:
		c.Noise, c.NoiseLevel = "mask", 0.3
	case SparseAE:
		c.L1 = 1e-3
	}
	return c
}

// Resolve fills the zero fields with the kind's defaults: a spatial code gets 7×7×Channels[1]
// values, Gaussian noise σ 0.5.
func (c *AEConfig) Resolve() {
	d := DefaultAEConfig(c.Kind)
	if c.Channels == [2]int{} {
		c.Channels = d.Channels
	}
	if c.CodeSize == 0 {
		c.CodeSize = d.CodeSize
		if c.SpatialCode {
			c.CodeSize = 7 * 7 * c.Channels[1]
		}
	}
	if c.Kind == DAE && c.Noise == "" {
		c.Noise = d.Noise
	}
	if c.Kind == DAE && c.NoiseLevel == 0 {
		c.NoiseLevel = d.NoiseLevel
		if c.Noise == "gaussian" {
			c.NoiseLevel = 0.5
		}
	}
	if c.Kind == SparseAE && c.L1 == 0 {
		c.L1 = d.L1
	}
}

// UnmarshalJSON also reads the two channel widths of files written before the registry, which
// stored them as channels0 and channels1.
func (c *AEConfig) UnmarshalJSON(data []byte) error {
	type plain AEConfig
	var v struct {
		plain
		Channels0 int `json:"channels0"`
		Channels1 int `json:"channels1"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*c = AEConfig(v.plain)
	if c.Channels == [2]int{} {
		c.Channels = [2]int{v.Channels0, v.Channels1}
	}
	return nil
}

// Validate reports a configuration error in one line.
func (c AEConfig) Validate() error {
	switch c.Kind {
	case AE, DAE, SparseAE, VAE, SubPixel, DenseAE:
	default:
		return fmt.Errorf("unknown model %q: want ae, dae, sparse, vae, subpixel, dense (autoencoders) or cnn, densenet, capsnet (classifiers)", c.Kind)
	}
	if c.CodeSize < 1 || c.Channels[0] < 1 || c.Channels[1] < 1 {
		return fmt.Errorf("code size and channels must be positive")
	}
	if c.SpatialCode && (c.Kind == VAE || c.Kind == DenseAE) {
		return fmt.Errorf("a spatial code needs a convolutional encoder and a deterministic code: not the %s", c.Kind)
	}
	if c.SpatialCode && c.CodeSize != 7*7*c.Channels[1] {
		return fmt.Errorf("a spatial code has 7×7×%d = %d values, not %d", c.Channels[1], 7*7*c.Channels[1], c.CodeSize)
	}
	if c.Hidden < 0 {
		return fmt.Errorf("hidden width %d is negative", c.Hidden)
	}
	if c.Hidden > 0 && (c.SpatialCode || c.Kind == DenseAE) {
		return fmt.Errorf("a hidden dense layer needs a dense code after a convolutional encoder: not with a spatial code or the dense AE")
	}
	if c.QuantNoise < 0 {
		return fmt.Errorf("quantization noise %g is negative", c.QuantNoise)
	}
	if c.Rate < 0 || (c.Rate > 0 && c.QuantNoise == 0) {
		return fmt.Errorf("a rate weight (%g) must be positive and needs quantization noise (its bin width)", c.Rate)
	}
	if c.Kind != DAE && (c.Noise != "" || c.NoiseLevel != 0) {
		return fmt.Errorf("noise and noise level are the denoising AE's (dae), not the %s's", c.Kind)
	}
	if c.Kind != SparseAE && c.L1 != 0 {
		return fmt.Errorf("the L1 activity penalty is the sparse AE's, not the %s's", c.Kind)
	}
	if c.Kind == DAE && c.Noise != "mask" && c.Noise != "gaussian" {
		return fmt.Errorf("unknown noise %q: want mask or gaussian", c.Noise)
	}
	if c.Kind == DAE && c.Noise == "mask" && (c.NoiseLevel < 0 || c.NoiseLevel >= 1) {
		return fmt.Errorf("mask fraction %g outside [0, 1)", c.NoiseLevel)
	}
	return nil
}

// AEOutputs are an autoencoder's outputs for a batch of images [batch, 28, 28, 1] in [0, 1].
type AEOutputs struct {
	Input  *Node // what the encoder saw: the image, or its corrupted version for the DAE in training
	Code   *Node // [batch, CodeSize]: the code (VAE: the latent mean)
	LogVar *Node // VAE only: [batch, CodeSize] log-variance of q(z|x)
	Logits *Node // [batch, 28, 28, 1] reconstruction logits; Sigmoid(Logits) is the reconstruction
	Bits   *Node // with a rate term, in training: [batch] bits of the noisy code (CodeBits)
}

// CodeBits is −log2 of the probability of each noisy code z [batch, CodeSize] under the factorized
// entropy model: per dimension a logistic of learned mean μ and scale s (initially the bin width),
// integrated over the bin of width q around z: σ((z−μ+q/2)/s) − σ((z−μ−q/2)/s), computed on the side
// of the density's centre that avoids cancellation. Summed over the code: [batch].
func CodeBits(ctx *context.Context, cfg AEConfig, z *Node) *Node {
	g := z.Graph()
	ctx = ctx.In("entropy").WithInitializer(initializers.Zero)
	mean := ctx.VariableWithShape("mean", shapes.Make(z.DType(), cfg.CodeSize)).ValueGraph(g)
	logScale := ctx.VariableWithShape("log_scale", shapes.Make(z.DType(), cfg.CodeSize)).ValueGraph(g)
	scale := MulScalar(Exp(logScale), cfg.QuantNoise)
	d := Sub(z, ExpandDims(mean, 0))
	upper := Div(AddScalar(d, cfg.QuantNoise/2), ExpandDims(scale, 0))
	lower := Div(AddScalar(d, -cfg.QuantNoise/2), ExpandDims(scale, 0))
	one := OnesLike(upper)
	sign := Where(GreaterThan(Add(upper, lower), ZerosLike(upper)), Neg(one), one) // never 0, unlike Sign
	p := Abs(Sub(Sigmoid(Mul(sign, upper)), Sigmoid(Mul(sign, lower))))
	p = Max(p, Scalar(g, z.DType(), 1e-9))
	return DivScalar(ReduceSum(Neg(Log(p)), 1), math.Ln2)
}

// Encode maps images to the code (VAE: to mean and log-variance).
func Encode(ctx *context.Context, cfg AEConfig, images *Node) (code, logVar *Node) {
	ctx = ctx.In("encoder")
	batch := images.Shape().Dimensions[0]
	x := images
	if cfg.Kind == DenseAE {
		h := activations.Relu(layers.DenseWithBias(ctx.In("hidden"), Reshape(images, batch, -1), denseHidden))
		return layers.DenseWithBias(ctx.In("code"), h, cfg.CodeSize), nil
	}
	for i, ch := range cfg.Channels {
		x = layers.Convolution(ctx.In(fmt.Sprintf("conv%d", i)), x).Filters(ch).KernelSize(3).Strides(2).PadSame().Done()
		x = activations.Relu(x) // 14×14, then 7×7
	}
	x = Reshape(x, batch, -1)
	if cfg.SpatialCode {
		return x, nil // already ReLU'd: what the sparse AE's code would be too
	}
	if cfg.Hidden > 0 {
		x = activations.Relu(layers.DenseWithBias(ctx.In("hidden"), x, cfg.Hidden))
	}
	code = layers.DenseWithBias(ctx.In("code"), x, cfg.CodeSize)
	switch cfg.Kind {
	case VAE:
		logVar = layers.DenseWithBias(ctx.In("logvar"), x, cfg.CodeSize)
	case SparseAE:
		code = activations.Relu(code)
	}
	return code, logVar
}

// Decode maps codes [batch, CodeSize] to reconstruction logits [batch, 28, 28, 1].
func Decode(ctx *context.Context, cfg AEConfig, code *Node) *Node {
	ctx = ctx.In("decoder")
	batch := code.Shape().Dimensions[0]
	c0, c1 := cfg.Channels[0], cfg.Channels[1]
	if cfg.Kind == DenseAE {
		h := activations.Relu(layers.DenseWithBias(ctx.In("hidden"), code, denseHidden))
		return Reshape(layers.DenseWithBias(ctx.In("out"), h, 28*28), batch, 28, 28, 1)
	}
	x := code
	if cfg.Hidden > 0 {
		x = activations.Relu(layers.DenseWithBias(ctx.In("hidden"), x, cfg.Hidden))
	}
	if !cfg.SpatialCode {
		x = activations.Relu(layers.DenseWithBias(ctx.In("dense"), x, 7*7*c1))
	}
	x = Reshape(x, batch, 7, 7, c1)
	if cfg.Kind == SubPixel {
		x = activations.Relu(subPixelUpsample(ctx.In("up0"), x, c0, 2)) // 14×14
		return subPixelUpsample(ctx.In("up1"), x, 1, 2)                 // 28×28
	}
	x = activations.Relu(transposedUpsample(ctx.In("up0"), x, c0)) // 14×14
	return transposedUpsample(ctx.In("up1"), x, 1)                 // 28×28
}

// transposedUpsample doubles the resolution with a 4×4 stride-2 transposed convolution: the kernel
// size is a multiple of the stride, so every output pixel gets the same number of taps (no
// checkerboard pattern from uneven overlap).
func transposedUpsample(ctx *context.Context, x *Node, outChannels int) *Node {
	inChannels := x.Shape().Dimensions[3]
	kernel := ctx.WithInitializer(initializers.HeFn(ctx)).VariableWithShape("kernel", shapes.Make(x.DType(), 4, 4, inChannels, outChannels)).ValueGraph(x.Graph())
	bias := ctx.WithInitializer(initializers.Zero).VariableWithShape("bias", shapes.Make(x.DType(), outChannels)).ValueGraph(x.Graph())
	return Add(nn.ConvTransposeSame(x, kernel, 2), Reshape(bias, 1, 1, 1, outChannels))
}

// subPixelUpsample is the efficient sub-pixel convolution (Shi et al. 2016): a 3×3 convolution at
// the low resolution producing r²·outChannels maps, then the periodic shuffle to r× the resolution.
// For r = 2 the kernel starts as the exact rearrangement of a He-initialized 4×4 stride-2 transposed
// convolution (transposedUpsample's layer; nn's TestSubPixelEqualsTransposedConv shows the identity),
// so the decoder starts as the transposed-convolution AE's does and training adds the 5 taps per phase
// the transposed convolution lacks. (ICNR, Aitken et al. 2017 — every phase starting as the same
// nearest-neighbour kernel — trained to a 0.9% worse BCE in 6 epochs over 3 seeds: README.)
func subPixelUpsample(ctx *context.Context, x *Node, outChannels, r int) *Node {
	inChannels := x.Shape().Dimensions[3]
	init := func(g *Graph, shape shapes.Shape) *Node {
		if r != 2 {
			return initializers.HeFn(ctx)(g, shape)
		}
		big := initializers.HeFn(ctx)(g, shapes.Make(shape.DType, 4, 4, inChannels, outChannels))
		return transposedAsSubPixel(big)
	}
	kernel := ctx.WithInitializer(init).VariableWithShape("kernel", shapes.Make(x.DType(), 3, 3, inChannels, r*r*outChannels)).ValueGraph(x.Graph())
	bias := ctx.WithInitializer(initializers.Zero).VariableWithShape("bias", shapes.Make(x.DType(), outChannels)).ValueGraph(x.Graph())
	y := Convolve(x, kernel).PadSame().Done()
	return Add(nn.DepthToSpace(y, r), Reshape(bias, 1, 1, 1, outChannels))
}

// transposedAsSubPixel rearranges the kernel [4, 4, in, out] of a 4×4 stride-2 "same" transposed
// convolution (padLo 1) into the 3×3 low-resolution kernel [3, 3, in, 4·out] that, followed by the
// periodic shuffle, computes the same thing. Output pixel 2m+a gets input m+j−1 through the transposed
// kernel's tap a+3−2j (j the 3×3 kernel's index); taps outside 0…3 are zero.
func transposedAsSubPixel(big *Node) *Node {
	d := big.Shape().Dimensions
	in, out := d[2], d[3]
	// sel[(j_h, j_w, a_h, a_w), (w_h, w_w)] = 1 where w = a + 3 − 2j on both axes.
	sel := make([][]float32, 3*3*2*2)
	for jh := range 3 {
		for jw := range 3 {
			for ah := range 2 {
				for aw := range 2 {
					row := make([]float32, 16)
					wh, ww := ah+3-2*jh, aw+3-2*jw
					if wh >= 0 && wh < 4 && ww >= 0 && ww < 4 {
						row[wh*4+ww] = 1
					}
					sel[((jh*3+jw)*2+ah)*2+aw] = row
				}
			}
		}
	}
	g := big.Graph()
	k := Dot(ConvertDType(Const(g, sel), big.DType()), Reshape(big, 16, in*out)) // [(jh, jw, ah, aw), (in, out)]
	k = TransposeAllAxes(Reshape(k, 3, 3, 2, 2, in, out), 0, 1, 4, 2, 3, 5)      // [jh, jw, in, ah, aw, out]
	return Reshape(k, 3, 3, in, 4*out)
}

// Corrupt applies the DAE's noise, fresh for every call (it draws from the context's RNG state).
func Corrupt(ctx *context.Context, cfg AEConfig, images *Node) *Node {
	g := images.Graph()
	switch cfg.Noise {
	case "mask":
		keep := GreaterOrEqual(ctx.RandomUniform(g, images.Shape()), Scalar(g, images.DType(), cfg.NoiseLevel))
		return Where(keep, images, ZerosLike(images))
	case "gaussian":
		noisy := Add(images, MulScalar(ctx.RandomNormal(g, images.Shape()), cfg.NoiseLevel))
		return ClipScalar(noisy, 0, 1)
	}
	return images
}

// Autoencoder runs the whole model. In training the DAE sees corrupted images and the VAE samples its
// latent with the reparameterization z = μ + σ·ε; outside training the VAE decodes its mean.
func Autoencoder(ctx *context.Context, cfg AEConfig, images *Node) AEOutputs {
	g := images.Graph()
	in := images
	if cfg.Kind == DAE && ctx.IsTraining(g) {
		in = Corrupt(ctx, cfg, images)
	}
	code, logVar := Encode(ctx, cfg, in)
	z := code
	if cfg.Kind == VAE && ctx.IsTraining(g) {
		eps := ctx.RandomNormal(g, code.Shape())
		z = Add(code, Mul(Exp(MulScalar(logVar, 0.5)), eps))
	}
	if cfg.QuantNoise > 0 && ctx.IsTraining(g) {
		u := AddScalar(ctx.RandomUniform(g, code.Shape()), -0.5)
		z = Add(z, MulScalar(u, cfg.QuantNoise))
	}
	out := AEOutputs{Input: in, Code: code, LogVar: logVar, Logits: Decode(ctx, cfg, z)}
	if cfg.Rate > 0 && ctx.IsTraining(g) {
		out.Bits = CodeBits(ctx, cfg, z)
	}
	return out
}

// BCEPerImage is the binary cross-entropy summed over the 784 pixels of each image [batch], computed
// from logits in the stable form max(l,0) − l·t + log(1 + e^−|l|).
func BCEPerImage(logits, target *Node) *Node {
	batch := logits.Shape().Dimensions[0]
	l := Reshape(logits, batch, -1)
	t := Reshape(target, batch, -1)
	elem := Add(Sub(Max(l, ZerosLike(l)), Mul(l, t)), Log1P(Exp(Neg(Abs(l)))))
	return ReduceSum(elem, 1)
}

// KLPerImage is KL(N(μ, e^logVar) ‖ N(0, I)) = −½ Σ (1 + logVar − μ² − e^logVar), per image [batch].
func KLPerImage(mean, logVar *Node) *Node {
	return MulScalar(ReduceSum(Sub(Sub(OnePlus(logVar), Square(mean)), Exp(logVar)), 1), -0.5)
}

// AELoss is the training loss: mean BCE per pixel for the AEs (+ L1 on the code for the sparse AE);
// for the VAE the negative ELBO per image (summed BCE over 784 pixels + KL), averaged over the batch.
func AELoss(cfg AEConfig, out AEOutputs, clean *Node) *Node {
	bce := BCEPerImage(out.Logits, clean)
	if cfg.Kind == VAE {
		return ReduceAllMean(Add(bce, KLPerImage(out.Code, out.LogVar)))
	}
	loss := DivScalar(ReduceAllMean(bce), 784)
	if cfg.Kind == SparseAE && cfg.L1 > 0 {
		loss = Add(loss, MulScalar(ReduceAllMean(Abs(out.Code)), cfg.L1))
	}
	if out.Bits != nil {
		loss = Add(loss, MulScalar(ReduceAllMean(out.Bits), cfg.Rate/784))
	}
	return loss
}
