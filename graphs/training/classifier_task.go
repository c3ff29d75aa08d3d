package training

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// Classifiers lists the classifier model names.
var Classifiers = []string{"cnn", "densenet", "capsnet"}

// IsClassifier reports whether model names a classifier.
func IsClassifier(model string) bool {
	for _, c := range Classifiers {
		if c == model {
			return true
		}
	}
	return false
}

// ClassifierLogits builds a classifier's class scores for images [batch, 784] in inference mode; for
// the CapsNet the scores are the digit capsules' lengths (not logits: temperature scaling then works
// on log-lengths, see Scores).
func ClassifierLogits(ctx *context.Context, model, size string, images *Node) *Node {
	batch := images.Shape().Dimensions[0]
	img := Reshape(images, batch, 28, 28, 1)
	switch model {
	case "cnn":
		return models.CNN(ctx, img)
	case "densenet":
		return models.DenseNet(ctx, models.DenseNetDefault, img)
	case "capsnet":
		out := models.CapsNet(ctx, capsNetConfig(size), img, nil)
		return Log(out.Lengths) // log-lengths: a monotone score whose softmax temperature scaling can calibrate
	}
	panic(fmt.Sprintf("unknown classifier %q", model))
}

func capsNetConfig(size string) models.CapsNetConfig {
	if size == "paper" {
		return models.CapsNetPaper
	}
	return models.CapsNetSmall
}

// ClassifierTask returns the training task of a classifier. size picks the CapsNet configuration
// ("small" or "paper"); the others ignore it.
func ClassifierTask(model, size string) (*Task, error) {
	if !IsClassifier(model) {
		return nil, fmt.Errorf("unknown classifier %q: want cnn, densenet or capsnet", model)
	}
	if model == "capsnet" && size != "small" && size != "paper" {
		return nil, fmt.Errorf("unknown CapsNet size %q: want small or paper", size)
	}
	task := &Task{Model: model, Config: map[string]any{"size": size}}
	if model != "capsnet" {
		task.Config = map[string]any{}
		task.ModelFn = func(ctx *context.Context, _ any, in []*Node) []*Node {
			return []*Node{ClassifierLogits(ctx, model, size, in[0])}
		}
		task.LossFn = losses.SparseCategoricalCrossEntropyLogits
		task.Feed = func(images, labels *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			n := labels.Shape().Dimensions[0]
			return []*tensors.Tensor{images}, []*tensors.Tensor{reshapeLabels(labels, n, 1)}
		}
		return task, nil
	}
	cfg := capsNetConfig(size)
	task.ModelFn = func(ctx *context.Context, _ any, in []*Node) []*Node {
		batch := in[0].Shape().Dimensions[0]
		img := Reshape(in[0], batch, 28, 28, 1)
		var mask *Node
		if ctx.IsTraining(img.Graph()) {
			img = models.RandomShift(ctx, img, 2)
			mask = in[1] // decoder sees the true class in training, the longest capsule otherwise
		}
		out := models.CapsNet(ctx, cfg, img, mask)
		return []*Node{out.Lengths, out.Reconstruction, Reshape(img, batch, 784)}
	}
	task.LossFn = func(labels, preds []*Node) *Node {
		out := models.CapsNetOutputs{Lengths: preds[0], Reconstruction: preds[1]}
		return models.CapsNetLoss(out, labels[0], preds[2])
	}
	task.Feed = func(images, labels *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
		return []*tensors.Tensor{images, labels}, []*tensors.Tensor{labels}
	}
	return task, nil
}

func reshapeLabels(labels *tensors.Tensor, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(tensors.MustCopyFlatData[int32](labels), dims...)
}
