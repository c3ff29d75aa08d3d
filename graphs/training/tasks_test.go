package training

import (
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// The tests here build the classifiers' tasks directly (graphs/zoo declares the models and tests
// the registry; it imports this package, so these tests cannot use it).

func cnnLogits(ctx *context.Context, img *Node) *Node { return models.CNN(ctx, img, 0) }

// cnnTask is the CNN's task with training shifts of up to shift pixels.
func cnnTask(shift int) *Task {
	return ClassifierTask("cnn", map[string]int{"shift": shift}, cnnLogits, shift)
}

// classifierCase is one classifier of the backend comparisons, its task built with or without the
// training shifts (random draws, which each backend makes its own way).
type classifierCase struct {
	name  string
	task  func(shift bool) *Task
	batch int
}

func classifierCases() []classifierCase {
	shiftOf := func(on bool, n int) int {
		if on {
			return n
		}
		return 0
	}
	densenet := func(cfg models.DenseNetConfig) Logits {
		return func(ctx *context.Context, img *Node) *Node { return models.DenseNet(ctx, cfg, img) }
	}
	return []classifierCase{
		{"cnn", func(on bool) *Task { return cnnTask(shiftOf(on, 1)) }, 16},
		{"densenet-small", func(on bool) *Task {
			return ClassifierTask("densenet", nil, densenet(models.DenseNetSmall), shiftOf(on, 1))
		}, 16},
		{"capsnet-small", func(on bool) *Task { return CapsNetTask(nil, models.CapsNetSmall, shiftOf(on, 2)) }, 16},
		// ~1 s per forward and backward on the engine at batch 4.
		{"capsnet-paper", func(on bool) *Task { return CapsNetTask(nil, models.CapsNetPaper, shiftOf(on, 2)) }, 4},
	}
}
