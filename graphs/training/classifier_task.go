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

// ClassifierSpec names a classifier and its architecture; it round-trips through the weights'
// manifest config so inference rebuilds the network that was trained.
type ClassifierSpec struct {
	Model    string                // cnn, densenet or capsnet
	Size     string                // densenet and capsnet: "small" (2 CPU cores) or "paper"
	DenseNet models.DenseNetConfig // densenet only: starts from Size's preset, flags may override
}

// NewClassifierSpec returns model's spec at size with the size's preset architecture.
func NewClassifierSpec(model, size string) (ClassifierSpec, error) {
	spec := ClassifierSpec{Model: model, Size: size}
	if !IsClassifier(model) {
		return spec, fmt.Errorf("unknown classifier %q: want cnn, densenet or capsnet", model)
	}
	if model == "cnn" {
		spec.Size = ""
		return spec, nil
	}
	switch size {
	case "small":
		spec.DenseNet = models.DenseNetSmall
	case "paper":
		spec.DenseNet = models.DenseNetPaper
	default:
		return spec, fmt.Errorf("unknown %s size %q: want small or paper", model, size)
	}
	if model != "densenet" {
		spec.DenseNet = models.DenseNetConfig{}
	}
	return spec, nil
}

// Validate reports a spec that cannot build a network.
func (s ClassifierSpec) Validate() error {
	if s.Model == "densenet" {
		return s.DenseNet.Validate()
	}
	return nil
}

// ToMap is the spec as manifest config entries.
func (s ClassifierSpec) ToMap() map[string]any {
	m := map[string]any{}
	if s.Size != "" {
		m["size"] = s.Size
	}
	if s.Model == "densenet" {
		d := s.DenseNet
		m["growth"], m["blocks"], m["layers_per_block"], m["init_channels"] = d.Growth, d.Blocks, d.LayersPerBlock, d.InitChannels
		m["compression"], m["dropout"], m["stem_pool"] = d.Compression, d.Dropout, d.StemPool
	}
	return m
}

// ClassifierSpecFromMap rebuilds the spec of model from manifest config entries.
func ClassifierSpecFromMap(model string, m map[string]any) (ClassifierSpec, error) {
	num := func(k string) float64 { return configNumber(m, k) }
	size, _ := m["size"].(string)
	if model == "capsnet" && size == "" {
		size = "small"
	}
	spec := ClassifierSpec{Model: model, Size: size}
	if !IsClassifier(model) {
		return spec, fmt.Errorf("weights hold a %q model, not a classifier", model)
	}
	if model == "densenet" {
		stem, _ := m["stem_pool"].(bool)
		spec.DenseNet = models.DenseNetConfig{Growth: int(num("growth")), Blocks: int(num("blocks")),
			LayersPerBlock: int(num("layers_per_block")), InitChannels: int(num("init_channels")),
			Compression: num("compression"), Dropout: num("dropout"), StemPool: stem}
	}
	if err := spec.Validate(); err != nil {
		return spec, fmt.Errorf("weights config: %w", err)
	}
	return spec, nil
}

// ClassifierLogits builds a classifier's class scores for images [batch, 784]; for the CapsNet the
// scores are the log-lengths of the digit capsules (not logits, but a monotone score that
// temperature scaling calibrates like logits).
func ClassifierLogits(ctx *context.Context, spec ClassifierSpec, images *Node) *Node {
	batch := images.Shape().Dimensions[0]
	img := Reshape(images, batch, 28, 28, 1)
	switch spec.Model {
	case "cnn":
		return models.CNN(ctx, img)
	case "densenet":
		return models.DenseNet(ctx, spec.DenseNet, img)
	case "capsnet":
		// Without the decoder: a graph whose parameters no output uses trips simplego (GoMLX v0.26.0).
		_, lengths := models.CapsNetCapsules(ctx, CapsNetConfig(spec.Size), img)
		return Log(lengths)
	}
	panic(fmt.Sprintf("unknown classifier %q", spec.Model))
}

// CapsNetConfig is the CapsNet configuration of a size ("paper" or else small).
func CapsNetConfig(size string) models.CapsNetConfig {
	if size == "paper" {
		return models.CapsNetPaper
	}
	return models.CapsNetSmall
}

// ClassifierTask returns the training task of the classifier spec describes.
func ClassifierTask(spec ClassifierSpec) (*Task, error) { return classifierTask(spec, true) }

// classifierTask is ClassifierTask, with the random shifts of training optional: tests that compare
// backends turn them off, since each backend draws its own random numbers.
func classifierTask(spec ClassifierSpec, shifts bool) (*Task, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	model := spec.Model
	task := &Task{Model: model, Config: spec.ToMap()}
	if model != "capsnet" {
		// Random shifts of up to one pixel in training: MNIST digits are centred by their centre of
		// mass, so ±1 pixel is the jitter the test set itself shows.
		task.Config["shift"] = 1
		task.ModelFn = func(ctx *context.Context, _ any, in []*Node) []*Node {
			images := in[0]
			if g := images.Graph(); shifts && ctx.IsTraining(g) {
				batch := images.Shape().Dimensions[0]
				images = Reshape(models.RandomShift(ctx, Reshape(images, batch, 28, 28, 1), 1), batch, 784)
			}
			return []*Node{ClassifierLogits(ctx, spec, images)}
		}
		task.LossFn = losses.SparseCategoricalCrossEntropyLogits
		task.Feed = func(images, labels *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			n := labels.Shape().Dimensions[0]
			return []*tensors.Tensor{images}, []*tensors.Tensor{reshapeLabels(labels, n, 1)}
		}
		return task, nil
	}
	cfg := CapsNetConfig(spec.Size)
	task.ModelFn = func(ctx *context.Context, _ any, in []*Node) []*Node {
		batch := in[0].Shape().Dimensions[0]
		img := Reshape(in[0], batch, 28, 28, 1)
		var mask *Node
		if ctx.IsTraining(img.Graph()) {
			if shifts {
				img = models.RandomShift(ctx, img, 2)
			}
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
