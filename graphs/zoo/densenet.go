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

// DenseNetConfig configures a DenseNet: a size preset, the architecture (models.DenseNetConfig, its
// fields flattened into this object), and the training shifts.
type DenseNetConfig struct {
	Size string `json:"size"` // "small" (trains on 2 CPU cores) or "paper"
	models.DenseNetConfig
	Shift int `json:"shift" init:"any" flag:"shift" min:"0" max:"4" help:"training images move by up to this many pixels on each axis (0: the model's default: cnn and densenet 1, capsnet 2)"` // training images move by up to this many pixels (default 1)
}

func densenetPreset(size string) models.DenseNetConfig {
	if size == "paper" {
		return models.DenseNetPaper
	}
	return models.DenseNetSmall
}

func (c *DenseNetConfig) Resolve() {
	if c.Size == "" {
		c.Size = "small"
	}
	p := densenetPreset(c.Size)
	if c.InitChannels == 0 { // not resolved yet: the preset's fixed choices too
		c.InitChannels, c.StemPool = p.InitChannels, p.StemPool
	}
	for _, f := range []struct {
		dst *int
		v   int
	}{{&c.Growth, p.Growth}, {&c.Blocks, p.Blocks}, {&c.LayersPerBlock, p.LayersPerBlock}} {
		if *f.dst == 0 {
			*f.dst = f.v
		}
	}
	if c.Compression == 0 {
		c.Compression = p.Compression
	}
	if c.Shift == 0 {
		c.Shift = 1
	}
}

func (c *DenseNetConfig) Validate() error {
	if c.Size != "small" && c.Size != "paper" {
		return fmt.Errorf("densenet: unknown size %q: want small or paper", c.Size)
	}
	if err := c.DenseNetConfig.Validate(); err != nil {
		return err
	}
	return validateShift(c.Shift)
}

// SizeName is the preset the configuration started from.
func (c *DenseNetConfig) SizeName() string { return c.Size }

var densenetModel = declare(Model{Name: "densenet", Family: Classifier, Sizes: []string{"small", "paper"}, Shipped: []string{"small", "paper"},
	Summary: "DenseNet: BN-ReLU-Conv3×3 dense blocks with growth rate k, BN + 1×1 conv + 2×2 average pooling transitions"},
	func(size string) *DenseNetConfig { return &DenseNetConfig{Size: size} },
	func(c *DenseNetConfig) *training.Task {
		return training.ClassifierTask("densenet", c, densenetLogits(c.DenseNetConfig), c.Shift)
	},
	func(b backends.Backend, f *weights.File, c *DenseNetConfig) (*Trained, error) {
		clf, err := evaluate.LoadClassifier(b, f, densenetLogits(c.DenseNetConfig))
		return &Trained{Classifier: clf}, err
	})

func densenetLogits(cfg models.DenseNetConfig) training.Logits {
	return func(ctx *context.Context, img *Node) *Node { return models.DenseNet(ctx, cfg, img) }
}

// validateShift bounds the training shifts: beyond a few pixels a digit leaves its 28×28 frame.
func validateShift(shift int) error {
	if shift < 0 || shift > 4 {
		return fmt.Errorf("training shift %d pixels, want 0..4", shift)
	}
	return nil
}
