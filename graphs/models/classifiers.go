package models

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/layers/batchnorm"
)

// CNN is the baseline classifier every other one is compared to, sized for training on two CPU cores:
// 5×5 convolution (32 maps, valid) → ReLU → 2×2 max pool → 5×5 convolution (64 maps, valid) → ReLU →
// 2×2 max pool → dense 128 → ReLU → dense 10 (logits). 28 → 24 → 12 → 8 → 4: about 3.9 M multiply-adds
// per digit, a fifth of a 3×3 VGG-style stack at full resolution with the same accuracy on MNIST.
//
// dropout > 0 drops that fraction of the dense layer's 128 activations in training (and half of it
// of the second pooling's outputs): the network otherwise drives its training loss to ~0.002 within
// 20 epochs and stops improving on held-out digits.
func CNN(ctx *context.Context, images *Node, dropout float64) *Node {
	return CNNOf(ctx, CNNStandard, images, dropout)
}

// CNNArch is a CNN's widths: two valid 5×5 convolutions, each followed by ReLU and 2×2 max pooling,
// then (when Dense > 0) a dense ReLU layer, then the 10 logits.
type CNNArch struct {
	Filters [2]int
	Dense   int
}

// CNNStandard is the baseline every shipped CNN file holds: 32 and 64 filters, dense 128 (3.9 M
// multiply-adds per digit).
var CNNStandard = CNNArch{Filters: [2]int{32, 64}, Dense: 128}

// CNNTiny is sized for training on the whole of MNIST inside a browser tab (one wasm thread):
// ConvNetJS's MNIST demo network, two 5×5 convolutions of 8 and 16 filters, with a dense layer of 64
// (0.33 M multiply-adds per digit, a twelfth of CNNStandard).
var CNNTiny = CNNArch{Filters: [2]int{8, 16}, Dense: 64}

// CNNOf builds the logits of a CNN of architecture a; dropout (training only) applies to the dense
// layer's output and, at half the rate, to its input.
func CNNOf(ctx *context.Context, a CNNArch, images *Node, dropout float64) *Node {
	batch := images.Shape().Dimensions[0]
	x := images
	for b, ch := range a.Filters {
		x = layers.Convolution(ctx.In(fmt.Sprintf("conv%d", b)), x).Filters(ch).KernelSize(5).Done() // valid padding
		x = MaxPool2(activations.Relu(x))
	}
	x = Reshape(x, batch, -1)
	if a.Dense > 0 {
		if dropout > 0 {
			x = layers.DropoutNormalize(ctx, x, Scalar(x.Graph(), x.DType(), dropout/2), true)
		}
		x = activations.Relu(layers.DenseWithBias(ctx.In("dense"), x, a.Dense))
	}
	if dropout > 0 {
		x = layers.DropoutNormalize(ctx, x, Scalar(x.Graph(), x.DType(), dropout), true)
	}
	return layers.DenseWithBias(ctx.In("logits"), x, 10)
}

// DenseNetConfig sizes a DenseNet (Huang et al. 2017, "Densely Connected Convolutional Networks").
type DenseNetConfig struct {
	Growth         int     `json:"growth" flag:"growth" min:"0" max:"256" help:"growth rate k (default: the size's, 12)"`                            // feature maps each layer adds
	Blocks         int     `json:"blocks" flag:"blocks" min:"0" max:"5" help:"dense blocks (default: the size's, 3)"`                                // with a transition between consecutive ones
	LayersPerBlock int     `json:"layers_per_block" flag:"dense-layers" min:"0" max:"64" help:"BN-ReLU-conv layers per block (default: the size's)"` // L
	InitChannels   int     `json:"init_channels"`                                                                                                    // k0: channels of the first convolution (2k by convention)
	Compression    float64 `json:"compression"`                                                                                                      // transition 1×1 conv keeps this fraction of the channels (1: none)
	Dropout        float64 `json:"dropout" init:"any" flag:"dropout" min:"0" max:"0.95" help:"dropout after each 3×3 convolution"`                   // in training (0: none)
	// StemPool halves the resolution with 2×2 average pooling after the first convolution, so the
	// dense blocks run at 14×14, 7×7 and 3×3: a quarter of the work of full resolution.
	StemPool bool `json:"stem_pool"`
}

// DenseNetPaper is the paper's CIFAR layout at MNIST's full 28×28 resolution, shallower: k = 12, 3
// blocks of 6 layers, k0 = 24, compression 0.5 (DenseNet-BC style transitions without bottlenecks).
var DenseNetPaper = DenseNetConfig{Growth: 12, Blocks: 3, LayersPerBlock: 6, InitChannels: 24, Compression: 0.5}

// DenseNetSmall trains on 2 CPU cores: k = 12, 3 blocks of 4 layers after a stem pooling to 14×14
// (about 5 M multiply-adds per digit against DenseNetPaper's 40 M).
var DenseNetSmall = DenseNetConfig{Growth: 12, Blocks: 3, LayersPerBlock: 4, InitChannels: 24, Compression: 0.5, StemPool: true}

// Validate reports a configuration that cannot build a network.
func (c DenseNetConfig) Validate() error {
	if c.Growth < 1 || c.Blocks < 1 || c.LayersPerBlock < 1 || c.InitChannels < 1 {
		return fmt.Errorf("densenet: growth %d, blocks %d, layers %d and initial channels %d must all be ≥ 1", c.Growth, c.Blocks, c.LayersPerBlock, c.InitChannels)
	}
	if !(c.Compression > 0 && c.Compression <= 1) || !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("densenet: compression %g must be in (0, 1] and dropout %g in [0, 1)", c.Compression, c.Dropout)
	}
	if side := 28 >> (c.Blocks - 1) >> btoi(c.StemPool); side < 1 {
		return fmt.Errorf("densenet: %d blocks pool 28×28 below 1×1", c.Blocks)
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DenseNetBlockChannels is the channel count after a dense block of L layers fed k0 channels: k0 + L·k.
func DenseNetBlockChannels(k0, layers, growth int) int { return k0 + layers*growth }

// DenseBlock: each layer BN → ReLU → 3×3 conv producing Growth maps, concatenated to all earlier ones.
func DenseBlock(ctx *context.Context, cfg DenseNetConfig, x *Node) *Node {
	for l := range cfg.LayersPerBlock {
		lctx := ctx.In(fmt.Sprintf("layer%d", l))
		h := activations.Relu(batchnorm.New(lctx.In("bn"), x, -1).Done())
		h = layers.Convolution(lctx.In("conv"), h).Filters(cfg.Growth).KernelSize(3).PadSame().UseBias(false).Done()
		if cfg.Dropout > 0 {
			h = layers.DropoutNormalize(lctx, h, Scalar(h.Graph(), h.DType(), cfg.Dropout), true)
		}
		x = Concatenate([]*Node{x, h}, -1)
	}
	return x
}

// transition: BN → 1×1 conv → 2×2 average pooling.
func transition(ctx *context.Context, cfg DenseNetConfig, x *Node) *Node {
	channels := max(1, int(float64(x.Shape().Dimensions[3])*cfg.Compression))
	h := batchnorm.New(ctx.In("bn"), x, -1).Done()
	h = layers.Convolution(ctx.In("conv"), h).Filters(channels).KernelSize(1).UseBias(false).Done()
	return AvgPool2(h)
}

// AvgPool2 is 2×2 average pooling with stride 2 of x [batch, h, w, c] (an odd last row or column is
// dropped, as a 2×2 window would). It reshapes to [batch, h/2, 2, w/2, 2, c] and averages the two
// pairs of axes: the same numbers as MeanPool, but as a plain reduction, which the pure-Go backend
// runs (forward and gradient) several times faster than its generic reduce-window.
func AvgPool2(x *Node) *Node { return pool2(x, ReduceMean) }

// pool2 reduces the 2×2 windows (stride 2) of x [batch, h, w, c] with reduce over the two window axes
// of the reshape [batch, h/2, 2, w/2, 2, c]; an odd last row or column is dropped, as a window would.
func pool2(x *Node, reduce func(*Node, ...int) *Node) *Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1]/2, d[2]/2, d[3]
	if d[1]%2 != 0 || d[2]%2 != 0 {
		x = Slice(x, AxisRange(), AxisRange(0, 2*h), AxisRange(0, 2*w), AxisRange())
	}
	return reduce(Reshape(x, b, h, 2, w, 2, c), 2, 4)
}

// MaxPool2 is 2×2 max pooling with stride 2 of x [batch, h, w, c], as a reshape and a plain ReduceMax
// like AvgPool2: the same forward numbers as MaxPool, and 3 of the 13 ms a one-digit CNN
// classification took on the pure-Go backend went into its generic reduce-window. In training, a tie
// inside a window passes the gradient to every maximum (MaxPool's picks one); after a ReLU the only
// likely ties are zeros, whose ReLU gradient is zero anyway.
func MaxPool2(x *Node) *Node { return pool2(x, ReduceMax) }

// DenseNet returns the logits for images [batch, 28, 28, 1].
func DenseNet(ctx *context.Context, cfg DenseNetConfig, images *Node) *Node {
	x := layers.Convolution(ctx.In("init"), images).Filters(cfg.InitChannels).KernelSize(3).PadSame().UseBias(false).Done()
	if cfg.StemPool {
		x = AvgPool2(x) // 28 → 14
	}
	for b := range cfg.Blocks {
		x = DenseBlock(ctx.In(fmt.Sprintf("block%d", b)), cfg, x)
		if b < cfg.Blocks-1 {
			x = transition(ctx.In(fmt.Sprintf("transition%d", b)), cfg, x) // halves the side
		}
	}
	x = activations.Relu(batchnorm.New(ctx.In("final_bn"), x, -1).Done())
	x = ReduceMean(x, 1, 2) // global average pooling
	return layers.DenseWithBias(ctx.In("logits"), x, 10)
}

// RandomShift translates each image by its own random offset of up to maxShift pixels on each axis,
// filling with zeros (CapsNet's training augmentation). A shift is a product with a shifted identity
// matrix on each side, Sy·image·Sxᵀ, so it needs no op beyond batched matrix products.
func RandomShift(ctx *context.Context, images *Node, maxShift int) *Node {
	g := images.Graph()
	d := images.Shape().Dimensions
	batch, h, w := d[0], d[1], d[2]
	u := ctx.RandomUniform(g, shapeOf(images.DType(), batch, 2))
	offsets := ConvertDType(Floor(MulScalar(u, float64(2*maxShift+1))), images.DType())
	offsets = AddScalar(offsets, -float64(maxShift)) // integers in [−maxShift, maxShift]
	shiftMatrix := func(n int, off *Node) *Node {
		// S[b, i, j] = 1 where j = i − off[b]: row i of the result reads row i − off of the input.
		i := ConvertDType(Iota(g, shapeOf(images.DType(), batch, n, n), 1), images.DType())
		j := ConvertDType(Iota(g, shapeOf(images.DType(), batch, n, n), 2), images.DType())
		o := Reshape(off, batch, 1, 1)
		return ConvertDType(Equal(j, Sub(i, o)), images.DType())
	}
	sy := shiftMatrix(h, Slice(offsets, AxisRange(), AxisRange(0, 1)))
	sx := shiftMatrix(w, Slice(offsets, AxisRange(), AxisRange(1, 2)))
	img := Reshape(images, batch, h, w)
	img = DotGeneral(sy, []int{2}, []int{0}, img, []int{1}, []int{0}) // [batch, h, w]
	img = DotGeneral(img, []int{2}, []int{0}, sx, []int{2}, []int{0}) // [batch, h, w]
	return Reshape(img, d...)
}
