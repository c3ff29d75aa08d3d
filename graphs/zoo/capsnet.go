package zoo

import (
	"encoding/json"
	"fmt"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// CapsNetConfig configures a Capsule Network: a size preset, the architecture
// (models.CapsNetConfig, flattened into this object) and the training shifts.
type CapsNetConfig struct {
	Size string `json:"size"` // "small" (browser-sized) or "paper"
	models.CapsNetConfig
	Shift int `json:"shift" init:"any" flag:"shift" min:"0" max:"4" help:"training images move by up to this many pixels on each axis (0: the model's default: cnn and densenet 1, capsnet 2)"` // training images move by up to this many pixels (default 2, the paper's)
}

func capsnetPreset(size string) models.CapsNetConfig {
	if size == "paper" {
		return models.CapsNetPaper
	}
	return models.CapsNetSmall
}

func (c *CapsNetConfig) Resolve() {
	if c.Size == "" {
		c.Size = "small"
	}
	p := capsnetPreset(c.Size)
	if c.Conv1Channels == 0 { // not resolved yet: everything but what the caller set
		routing := c.RoutingIterations
		c.CapsNetConfig = p
		if routing != 0 {
			c.RoutingIterations = routing
		}
	}
	if c.Shift == 0 {
		c.Shift = 2
	}
}

func (c *CapsNetConfig) Validate() error {
	if c.Size != "small" && c.Size != "paper" {
		return fmt.Errorf("capsnet: unknown size %q: want small or paper", c.Size)
	}
	if err := c.CapsNetConfig.Validate(); err != nil {
		return err
	}
	return validateShift(c.Shift)
}

// SizeName is the preset the configuration started from.
func (c *CapsNetConfig) SizeName() string { return c.Size }

// UnmarshalJSON fills a configuration written before the registry, which stored only the size,
// from the size's preset.
func (c *CapsNetConfig) UnmarshalJSON(data []byte) error {
	type plain CapsNetConfig
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*c = CapsNetConfig(p)
	if c.Conv1Channels == 0 {
		c.Resolve()
	}
	return nil
}

var capsnetModel = declare(Model{Name: "capsnet", Family: Classifier, Sizes: []string{"small", "paper"}, Shipped: []string{"small", "paper"},
	Summary:  "Capsule Network: primary capsules, dynamic routing, margin loss and masked decoder",
	Pictures: []Picture{CapsuleReconstructions, CapsulePerturbations}},
	func(size string) *CapsNetConfig { return &CapsNetConfig{Size: size} },
	func(c *CapsNetConfig) *training.Task { return training.CapsNetTask(c, c.CapsNetConfig, c.Shift) },
	func(b backends.Backend, f *weights.File, c *CapsNetConfig) (*Trained, error) {
		clf, err := evaluate.LoadClassifier(b, f, training.CapsNetScores(c.CapsNetConfig))
		if err != nil {
			return nil, err
		}
		parts, err := evaluate.LoadCapsNet(b, f, c.CapsNetConfig)
		return &Trained{Classifier: clf, CapsNet: parts}, err
	})
