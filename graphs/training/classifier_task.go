package training

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// Logits builds a classifier's class scores [batch, 10] from images [batch, 28, 28, 1].
type Logits func(ctx *context.Context, images *Node) *Node

// ClassifierTask is the training task of a classifier trained by softmax cross-entropy on its
// logits, each training image shifted by up to shift pixels on each axis (0: none). config is the
// model's configuration, recorded whole in the manifest.
func ClassifierTask(model string, config any, logits Logits, shift int) *Task {
	return &Task{
		Model: model, Config: config,
		ModelFn: func(ctx *context.Context, _ any, in []*Node) []*Node {
			batch := in[0].Shape().Dimensions[0]
			images := Reshape(in[0], batch, 28, 28, 1)
			if shift > 0 && ctx.IsTraining(images.Graph()) {
				images = models.RandomShift(ctx, images, shift)
			}
			return []*Node{logits(ctx, images)}
		},
		LossFn: losses.SparseCategoricalCrossEntropyLogits,
		Feed: func(images, labels *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			n := labels.Shape().Dimensions[0]
			return []*tensors.Tensor{images}, []*tensors.Tensor{reshapeLabels(labels, n, 1)}
		},
	}
}

// CapsNetTask is the Capsule Network's training task: margin loss plus the masked decoder's
// reconstruction loss (the decoder sees the true class in training), each training image shifted by
// up to shift pixels (the paper: 2).
func CapsNetTask(config any, cfg models.CapsNetConfig, shift int) *Task {
	return &Task{
		Model: "capsnet", Config: config,
		ModelFn: func(ctx *context.Context, _ any, in []*Node) []*Node {
			batch := in[0].Shape().Dimensions[0]
			img := Reshape(in[0], batch, 28, 28, 1)
			var mask *Node
			if ctx.IsTraining(img.Graph()) {
				if shift > 0 {
					img = models.RandomShift(ctx, img, shift)
				}
				mask = in[1] // decoder sees the true class in training, the longest capsule otherwise
			}
			out := models.CapsNet(ctx, cfg, img, mask)
			return []*Node{out.Lengths, out.Reconstruction, Reshape(img, batch, 784)}
		},
		LossFn: func(labels, preds []*Node) *Node {
			out := models.CapsNetOutputs{Lengths: preds[0], Reconstruction: preds[1]}
			return models.CapsNetLoss(out, labels[0], preds[2])
		},
		Feed: func(images, labels *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			return []*tensors.Tensor{images, labels}, []*tensors.Tensor{labels}
		},
	}
}

// CapsNetScores is the CapsNet's class scores for classification: the log-lengths of the digit
// capsules (not logits, but a monotone score that temperature scaling calibrates like logits). It
// leaves the decoder out: a graph whose parameters no output uses trips simplego (GoMLX v0.26.0).
func CapsNetScores(cfg models.CapsNetConfig) Logits {
	return func(ctx *context.Context, images *Node) *Node {
		_, lengths := models.CapsNetCapsules(ctx, cfg, images)
		return Log(lengths)
	}
}

func reshapeLabels(labels *tensors.Tensor, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[int32](labels), dims...)
}
