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

// CNNConfig configures the baseline CNN (models.CNNOf) at one of its two sizes: "standard" (the
// shipped CNN; files written before sizes existed record none and are this size) and "tiny" (the
// browser's: models.CNNTiny).
type CNNConfig struct {
	Size string `json:"size,omitempty"`
	// Shift: training images move by up to this many pixels on each axis (default 1: MNIST digits
	// are centred by their centre of mass, and ±1 pixel is the jitter the test set itself shows).
	Shift int `json:"shift" init:"any" flag:"shift" min:"0" max:"4" help:"training images move by up to this many pixels on each axis (0: the model's default: cnn and densenet 1, capsnet 2)"`
	// Dropout in training (models.CNN; 0: none, as in weights written before it existed).
	Dropout float64 `json:"dropout,omitempty" init:"any" flag:"dropout" min:"0" max:"0.95" help:"dropout in training (cnn: of the dense layer, half that before it; densenet: after each 3×3 convolution)"`
}

func (c *CNNConfig) Resolve() {
	if c.Size == "" {
		c.Size = "standard"
	}
	if c.Shift == 0 {
		c.Shift = 1
	}
}

func (c *CNNConfig) Validate() error {
	if _, ok := cnnArchs[c.Size]; !ok && c.Size != "" {
		return fmt.Errorf("cnn: unknown size %q: want standard or tiny", c.Size)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("cnn: dropout %g, want [0, 1)", c.Dropout)
	}
	return validateShift(c.Shift)
}

// SizeName is the preset; "" (a file from before sizes) is the standard one.
func (c *CNNConfig) SizeName() string {
	if c.Size == "" {
		return "standard"
	}
	return c.Size
}

var cnnArchs = map[string]models.CNNArch{"standard": models.CNNStandard, "tiny": models.CNNTiny}

var cnnModel = declare(Model{Name: "cnn", Family: Classifier, Browser: true, Shipped: []string{""}, Sizes: []string{"standard", "tiny"},
	Summary: "convolutional baseline: 5×5 conv 32 → pool → 5×5 conv 64 → pool → dense 128 → 10 (tiny: 8, 16, dense 64)"},
	func(size string) *CNNConfig { return &CNNConfig{Size: size} },
	func(c *CNNConfig) *training.Task {
		return training.ClassifierTask("cnn", c, cnnLogits(c), c.Shift)
	},
	func(b backends.Backend, f *weights.File, c *CNNConfig) (*Trained, error) {
		clf, err := evaluate.LoadClassifier(b, f, cnnLogits(c))
		return &Trained{Classifier: clf}, err
	})

func cnnLogits(c *CNNConfig) training.Logits {
	arch := cnnArchs[c.SizeName()]
	return func(ctx *context.Context, img *Node) *Node { return models.CNNOf(ctx, arch, img, c.Dropout) }
}
