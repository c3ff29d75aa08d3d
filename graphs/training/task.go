package training

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// Task binds a model to the trainer: its graph, its loss and how a batch feeds them.
type Task struct {
	Model  string // the registry name: "ae", "vae", ...
	Config any    // the model's configuration, recorded whole (as JSON) in the manifest

	ModelFn train.ModelFn
	LossFn  train.LossFn
	// Feed turns a batch into the trainer's inputs and labels.
	Feed func(images, labels *tensors.Tensor) (inputs, targets []*tensors.Tensor)
}

// AETask returns the task of one autoencoder (cfg resolved and valid): inputs are the images, the
// target is the clean image.
func AETask(cfg models.AEConfig) *Task {
	return &Task{
		Model:  string(cfg.Kind),
		Config: cfg,
		ModelFn: func(ctx *context.Context, _ any, in []*Node) []*Node {
			batch := in[0].Shape().Dimensions[0]
			out := models.Autoencoder(ctx, cfg, Reshape(in[0], batch, 28, 28, 1))
			preds := []*Node{out.Logits, out.Code}
			if out.LogVar != nil {
				preds = append(preds, out.LogVar)
			}
			if out.Bits != nil { // the rate term, in training only
				preds = append(preds, out.Bits)
			}
			return preds
		},
		LossFn: func(targets, preds []*Node) *Node {
			out := models.AEOutputs{Logits: preds[0], Code: preds[1]}
			rest := preds[2:]
			if cfg.Kind == models.VAE && len(rest) > 0 {
				out.LogVar, rest = rest[0], rest[1:]
			}
			if cfg.Rate > 0 && len(rest) > 0 {
				out.Bits = rest[0]
			}
			return models.AELoss(cfg, out, targets[0])
		},
		Feed: func(images, _ *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			return []*tensors.Tensor{images}, []*tensors.Tensor{images}
		},
	}
}
