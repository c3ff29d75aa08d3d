// Package models holds mnistzip's models as GoMLX graphs. Each model is a plain function of a
// context and input nodes, so it runs and trains on every backend (pure-Go engine, XLA).
package models

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
)

// CapsNetConfig sizes a Capsule Network (Sabour, Frosst, Hinton 2017, "Dynamic Routing Between
// Capsules").
type CapsNetConfig struct {
	Conv1Channels     int    `json:"conv1_channels"`                                                                                        // paper: 256
	PrimaryTypes      int    `json:"primary_types"`                                                                                         // paper: 32 capsule types (channels = types × PrimaryDim)
	PrimaryDim        int    `json:"primary_dim"`                                                                                           // paper: 8
	DigitDim          int    `json:"digit_dim"`                                                                                             // paper: 16
	RoutingIterations int    `json:"routing_iterations" flag:"routing" min:"0" max:"10" help:"routing-by-agreement iterations (default 3)"` // paper: 3
	Decoder           [2]int `json:"decoder"`                                                                                               // hidden widths of the reconstruction decoder (paper: 512, 1024)
}

// CapsNetPaper is the paper's configuration: conv 9×9×256 → 32×6×6 primary capsules of 8-D → 10
// digit capsules of 16-D, 3 routing iterations, decoder 512-1024-784. 8.2M parameters.
var CapsNetPaper = CapsNetConfig{Conv1Channels: 256, PrimaryTypes: 32, PrimaryDim: 8, DigitDim: 16, RoutingIterations: 3, Decoder: [2]int{512, 1024}}

// CapsNetSmall keeps the architecture (kernel sizes, strides, routing, capsule dimensions, decoder) but
// narrows the convolutions to 64 channels and 8 primary capsule types (288 primary capsules instead of
// 1152): about 30× fewer multiply-adds, so it trains on 2 CPU cores in hours instead of days.
var CapsNetSmall = CapsNetConfig{Conv1Channels: 64, PrimaryTypes: 8, PrimaryDim: 8, DigitDim: 16, RoutingIterations: 3, Decoder: [2]int{512, 1024}}

const squashEpsilon = 1e-7

// Squash is the capsule non-linearity v = (‖s‖²/(1+‖s‖²))·s/‖s‖ along axis; the epsilon inside the
// square root keeps zero vectors at zero instead of NaN (in value and gradient).
func Squash(s *Node, axis int) *Node {
	sq := ReduceAndKeep(Square(s), ReduceSum, axis)
	scale := Div(sq, OnePlus(sq))
	return Mul(s, Div(scale, Sqrt(AddScalar(sq, squashEpsilon))))
}

// CapsNetOutputs are the network's outputs for one batch.
type CapsNetOutputs struct {
	Lengths        *Node // [batch, 10]: class scores, the digit capsules' lengths
	DigitCaps      *Node // [batch, 10, DigitDim]
	Reconstruction *Node // [batch, 784], in [0, 1]
}

// CapsNet builds the network on images [batch, 28, 28, 1] in [0, 1]. mask [batch] (int32 class) picks
// the digit capsule fed to the decoder; nil masks with the longest capsule (test time).
func CapsNet(ctx *context.Context, cfg CapsNetConfig, images, mask *Node) CapsNetOutputs {
	v, lengths := CapsNetCapsules(ctx, cfg, images)
	masked := MaskCapsules(v, lengths, mask) // [batch, 10, 16]
	return CapsNetOutputs{Lengths: lengths, DigitCaps: v, Reconstruction: CapsNetDecoder(ctx, cfg, masked)}
}

// CapsNetCapsules is the network without its decoder: the digit capsules v [batch, 10, DigitDim] and
// their lengths [batch, 10] (the class scores). Classification needs only this part.
func CapsNetCapsules(ctx *context.Context, cfg CapsNetConfig, images *Node) (v, lengths *Node) {
	batch := images.Shape().Dimensions[0]
	x := layers.Convolution(ctx.In("conv1"), images).Filters(cfg.Conv1Channels).KernelSize(9).NoPadding().Done()
	x = activations.Relu(x) // [batch, 20, 20, conv1]
	x = layers.Convolution(ctx.In("primary"), x).Filters(cfg.PrimaryTypes * cfg.PrimaryDim).KernelSize(9).Strides(2).NoPadding().Done()
	grid := x.Shape().Dimensions[1] * x.Shape().Dimensions[2] // 6×6
	numPrimary := grid * cfg.PrimaryTypes
	u := Squash(Reshape(x, batch, numPrimary, cfg.PrimaryDim), -1) // [batch, 1152, 8]

	// û[b, i, j, :] = W[i, j]·u[b, i]: one 8→16 matrix per (primary, digit) pair.
	w := ctx.In("digitcaps").VariableWithShape("weights", shapes.Make(u.DType(), numPrimary, 10, cfg.DigitDim, cfg.PrimaryDim)).ValueGraph(images.Graph())
	uHat := DotGeneral(u, []int{2}, []int{1}, w, []int{3}, []int{0}) // [1152, batch, 10, 16]
	uHat = TransposeAllAxes(uHat, 1, 0, 2, 3)                        // [batch, 1152, 10, 16]

	v = route(uHat, cfg.RoutingIterations) // [batch, 10, 16]
	lengths = Sqrt(AddScalar(ReduceSum(Square(v), -1), squashEpsilon))
	return v, lengths
}

// CapsNetDecoder reconstructs images [batch, 784] from masked digit capsules [batch, 10, DigitDim]
// through dense 512 → 1024 → 784 (ReLU, ReLU, sigmoid). ctx is the CapsNet's own, so a graph that
// only decodes (the capsule-dimension perturbation pictures) reuses the trained decoder.
func CapsNetDecoder(ctx *context.Context, cfg CapsNetConfig, masked *Node) *Node {
	batch := masked.Shape().Dimensions[0]
	h := Reshape(masked, batch, 10*cfg.DigitDim)
	h = activations.Relu(layers.DenseWithBias(ctx.In("decoder1"), h, cfg.Decoder[0]))
	h = activations.Relu(layers.DenseWithBias(ctx.In("decoder2"), h, cfg.Decoder[1]))
	return Sigmoid(layers.DenseWithBias(ctx.In("decoder3"), h, 784))
}

// route is routing by agreement: logits b start at 0 for every example; each iteration couples every
// primary capsule to the digit capsules with c = softmax(b) over the 10 digit capsules (axis 2: the
// coupling coefficients of one primary capsule sum to 1), s_j = Σ_i c_ij·û_j|i, v_j = squash(s_j), and
// b_ij += û_j|i·v_j.
func route(uHat *Node, iterations int) *Node {
	v, _ := Route(uHat, iterations)
	return v
}

// Route runs routing by agreement on predictions û [batch, primary, digit, dim] and returns the
// digit capsules v [batch, digit, dim] and the final coupling coefficients c [batch, primary, digit].
func Route(uHat *Node, iterations int) (v, c *Node) {
	d := uHat.Shape().Dimensions
	uniform := 1 / float64(d[2])
	var b *Node // routing logits; nil while they are all zero
	for it := range iterations {
		var s *Node
		if b == nil {
			// softmax of all-zero logits is uniform. Written out, so XLA does not constant-fold a
			// softmax over [batch, primary, digit] zeros at every compilation (over 1 s for the paper
			// configuration, with a warning on stderr).
			c = BroadcastToDims(Scalar(uHat.Graph(), uHat.DType(), uniform), d[0], d[1], d[2])
			s = MulScalar(ReduceSum(uHat, 1), uniform)
		} else {
			c = Softmax(b, 2)                              // over the digit capsules
			s = ReduceSum(Mul(InsertAxes(c, -1), uHat), 1) // [batch, digit, dim]
		}
		v = Squash(s, -1)
		if it < iterations-1 {
			agreement := ReduceSum(Mul(uHat, InsertAxes(v, 1)), -1) // û·v
			if b == nil {
				b = agreement
			} else {
				b = Add(b, agreement)
			}
		}
	}
	return v, c
}

// MaskCapsules zeroes every digit capsule but the one given per example: the true label in
// training, the longest capsule (mask nil) at test time.
func MaskCapsules(v, lengths, mask *Node) *Node {
	if mask == nil {
		mask = ArgMax(lengths, -1, dtypes.Int32)
	}
	return Mul(v, InsertAxes(OneHot(mask, v.Shape().Dimensions[1], v.DType()), -1))
}

// CapsNetLoss is the margin loss (m+ = 0.9, m− = 0.1, λ = 0.5, summed over classes, averaged over the
// batch) plus 0.0005 × the sum of squared reconstruction errors (averaged over the batch).
func CapsNetLoss(out CapsNetOutputs, labels, images *Node) *Node {
	batch := images.Shape().Dimensions[0]
	t := OneHot(labels, 10, out.Lengths.DType())
	present := Square(activations.Relu(AddScalar(Neg(out.Lengths), 0.9))) // max(0, 0.9 − ‖v‖)²
	absent := Square(activations.Relu(AddScalar(out.Lengths, -0.1)))      // max(0, ‖v‖ − 0.1)²
	margin := Add(Mul(t, present), MulScalar(Mul(OneMinus(t), absent), 0.5))
	marginLoss := ReduceAllMean(ReduceSum(margin, -1))
	diff := Sub(out.Reconstruction, Reshape(images, batch, 784))
	reconLoss := MulScalar(ReduceAllMean(ReduceSum(Square(diff), -1)), 0.0005)
	return Add(marginLoss, reconLoss)
}

// Validate reports a configuration that cannot build a network.
func (c CapsNetConfig) Validate() error {
	if c.Conv1Channels < 1 || c.PrimaryTypes < 1 || c.PrimaryDim < 1 || c.DigitDim < 1 || c.Decoder[0] < 1 || c.Decoder[1] < 1 {
		return fmt.Errorf("capsnet: channels %d, primary types %d, capsule sizes %d and %d and decoder %v must all be ≥ 1",
			c.Conv1Channels, c.PrimaryTypes, c.PrimaryDim, c.DigitDim, c.Decoder)
	}
	if c.RoutingIterations < 1 || c.RoutingIterations > 10 {
		return fmt.Errorf("capsnet: %d routing iterations, want 1..10", c.RoutingIterations)
	}
	return nil
}
