package training

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/train"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// Task binds a model to the trainer: its graph, its loss and how a batch feeds them.
type Task struct {
	Model   string         // "ae", "vae", ...
	Config  map[string]any // recorded in the manifest; enough to rebuild the model
	ModelFn train.ModelFn
	LossFn  train.LossFn
	// Feed turns a batch into the trainer's inputs and labels.
	Feed func(images, labels *tensors.Tensor) (inputs, targets []*tensors.Tensor)
}

// AETask returns the task of one autoencoder: inputs are the images, the target is the clean image.
func AETask(cfg models.AEConfig) (*Task, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Task{
		Model:  string(cfg.Kind),
		Config: AEConfigToMap(cfg),
		ModelFn: func(ctx *context.Context, _ any, in []*Node) []*Node {
			batch := in[0].Shape().Dimensions[0]
			out := models.Autoencoder(ctx, cfg, Reshape(in[0], batch, 28, 28, 1))
			preds := []*Node{out.Logits, out.Code}
			if out.LogVar != nil {
				preds = append(preds, out.LogVar)
			}
			return preds
		},
		LossFn: func(targets, preds []*Node) *Node {
			out := models.AEOutputs{Logits: preds[0], Code: preds[1]}
			if len(preds) > 2 {
				out.LogVar = preds[2]
			}
			return models.AELoss(cfg, out, targets[0])
		},
		Feed: func(images, _ *tensors.Tensor) ([]*tensors.Tensor, []*tensors.Tensor) {
			return []*tensors.Tensor{images}, []*tensors.Tensor{images}
		},
	}, nil
}

// AEConfigToMap records cfg in a manifest; AEConfigFromMap reads it back.
func AEConfigToMap(cfg models.AEConfig) map[string]any {
	m := map[string]any{"kind": string(cfg.Kind), "code_size": cfg.CodeSize, "channels0": cfg.Channels[0],
		"channels1": cfg.Channels[1], "noise": cfg.Noise, "noise_level": cfg.NoiseLevel, "l1": cfg.L1}
	if cfg.QuantNoise > 0 { // only when set: older weights and checkpoints have no such key
		m["quant_noise"] = cfg.QuantNoise
	}
	if cfg.SpatialCode { // likewise
		m["spatial_code"] = true
	}
	if cfg.Hidden > 0 { // likewise
		m["hidden"] = cfg.Hidden
	}
	return m
}

// AEConfigFromMap rebuilds an AEConfig from a manifest's config (numbers may be json.Number).
func AEConfigFromMap(m map[string]any) (models.AEConfig, error) {
	num := func(k string) float64 { return configNumber(m, k) }
	str := func(k string) string { s, _ := m[k].(string); return s }
	cfg := models.AEConfig{Kind: models.AEKind(str("kind")), CodeSize: int(num("code_size")),
		Channels: [2]int{int(num("channels0")), int(num("channels1"))}, Noise: str("noise"),
		NoiseLevel: num("noise_level"), L1: num("l1"), QuantNoise: num("quant_noise")}
	cfg.SpatialCode, _ = m["spatial_code"].(bool)
	cfg.Hidden = int(num("hidden"))
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("weights config: %w", err)
	}
	return cfg, nil
}

// configNumber reads m[k] as a number whether it was set in Go (int, float64) or decoded from JSON
// (float64 or json.Number); anything else is 0.
func configNumber(m map[string]any, k string) float64 {
	switch v := m[k].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case interface{ Float64() (float64, error) }:
		f, _ := v.Float64()
		return f
	}
	return 0
}
