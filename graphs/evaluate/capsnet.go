package evaluate

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// CapsNet runs a trained Capsule Network's parts separately: the digit capsules of images, and the
// decoder on capsules the caller edits (the paper's capsule-dimension perturbations).
type CapsNet struct {
	Config   models.CapsNetConfig
	capsules *context.Exec
	decode   *context.Exec
}

// CapsNetResult is the network's view of a batch: the longest capsule's class, the digit capsules
// masked to that class, and the decoder's reconstruction from them.
type CapsNetResult struct {
	Predicted      []int32
	Masked         []float32 // [n, 10, DigitDim]
	Reconstruction []float32 // [n, 784]
}

// LoadCapsNet prepares f's CapsNet, whose architecture is cfg, on backend.
func LoadCapsNet(backend backends.Backend, f *weights.File, cfg models.CapsNetConfig) (*CapsNet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx := context.New()
	if err := f.LoadInto(ctx); err != nil {
		return nil, err
	}
	var err error
	c := &CapsNet{Config: cfg}
	c.capsules, err = context.NewExecAny(backend, ctx.Reuse(), func(ctx *context.Context, images *Node) []*Node {
		batch := images.Shape().Dimensions[0]
		out := models.CapsNet(ctx, cfg, Reshape(images, batch, 28, 28, 1), nil)
		pred := ArgMax(out.Lengths, -1, dtypes.Int32)
		masked := models.MaskCapsules(out.DigitCaps, out.Lengths, nil)
		return []*Node{pred, masked, out.Reconstruction}
	})
	if err != nil {
		return nil, err
	}
	c.decode, err = context.NewExecAny(backend, ctx.Reuse(), func(ctx *context.Context, masked *Node) *Node {
		return models.CapsNetDecoder(ctx, cfg, masked)
	})
	return c, err
}

// Run returns the network's capsules and reconstructions of n images [n, 784].
func (c *CapsNet) Run(images []float32, n int) (*CapsNetResult, error) {
	outs, err := c.capsules.Exec(tensors.FromFlatDataAndDimensions(images, n, 784))
	if err != nil {
		return nil, err
	}
	return &CapsNetResult{Predicted: tensors.MustCopyFlatData[int32](outs[0]), Masked: flat(outs[1]), Reconstruction: flat(outs[2])}, nil
}

// Decode reconstructs images from n masked digit capsules [n, 10, DigitDim].
func (c *CapsNet) Decode(masked []float32, n int) ([]float32, error) {
	outs, err := c.decode.Exec(tensors.FromFlatDataAndDimensions(masked, n, 10, c.Config.DigitDim))
	if err != nil {
		return nil, err
	}
	return flat(outs[0]), nil
}

// Perturbations decodes the winning capsule of one image with each of its dimensions moved by each
// of deltas in turn (Sabour et al. 2017, figure 4): rows[d][k] is dimension d moved by deltas[k].
func (c *CapsNet) Perturbations(image []float32, deltas []float32) ([][][]float32, error) {
	r, err := c.Run(image, 1)
	if err != nil {
		return nil, err
	}
	dim := c.Config.DigitDim
	win := int(r.Predicted[0])
	batch := make([]float32, 0, dim*len(deltas)*10*dim)
	for d := range dim {
		for _, delta := range deltas {
			caps := append([]float32(nil), r.Masked...)
			caps[win*dim+d] += delta
			batch = append(batch, caps...)
		}
	}
	decoded, err := c.Decode(batch, dim*len(deltas))
	if err != nil {
		return nil, err
	}
	rows := make([][][]float32, dim)
	for d := range rows {
		for k := range deltas {
			i := d*len(deltas) + k
			rows[d] = append(rows[d], decoded[i*784:(i+1)*784])
		}
	}
	return rows, nil
}
