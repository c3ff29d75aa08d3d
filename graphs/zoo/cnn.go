package zoo

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// CNNConfig configures the baseline CNN (models.CNN): its architecture is fixed.
type CNNConfig struct {
	// Shift: training images move by up to this many pixels on each axis (default 1: MNIST digits
	// are centred by their centre of mass, and ±1 pixel is the jitter the test set itself shows).
	Shift int `json:"shift" flag:"shift" min:"0" max:"4" help:"training images move by up to this many pixels on each axis (0: the model's default: cnn and densenet 1, capsnet 2)"`
	// Dropout in training (models.CNN; 0: none, as in weights written before it existed).
	Dropout float64 `json:"dropout,omitempty" flag:"dropout" min:"0" max:"0.95" help:"dropout in training (cnn: of the dense layer, half that before it; densenet: after each 3×3 convolution)"`
}

func (c *CNNConfig) Resolve() {
	if c.Shift == 0 {
		c.Shift = 1
	}
}

func (c *CNNConfig) Validate() error {
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("cnn: dropout %g, want [0, 1)", c.Dropout)
	}
	return validateShift(c.Shift)
}

var cnnModel = declare(Model{Name: "cnn", Family: Classifier, Browser: true, Shipped: []string{""},
	Summary: "convolutional baseline: 5×5 conv 32 → pool → 5×5 conv 64 → pool → dense 128 → 10"},
	func(string) *CNNConfig { return &CNNConfig{} },
	func(c *CNNConfig) *training.Task {
		return training.ClassifierTask("cnn", c, cnnLogits(c.Dropout), c.Shift)
	},
	func(b backends.Backend, f *weights.File, c *CNNConfig) (*Trained, error) {
		clf, err := evaluate.LoadClassifier(b, f, cnnLogits(c.Dropout))
		return &Trained{Classifier: clf}, err
	})

func cnnLogits(dropout float64) training.Logits {
	return func(ctx *context.Context, img *Node) *Node { return models.CNN(ctx, img, dropout) }
}
