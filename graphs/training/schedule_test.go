package training

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// TestCosineSchedule: after k of n steps the learning rate the optimizer used for step k is
// LR/100 + (LR − LR/100)·(1 + cos(π(k−1)/n))/2, and the constant schedule leaves it at LR.
func TestCosineSchedule(t *testing.T) {
	train, val := testData(t)
	task, err := ClassifierTask(ClassifierSpec{Model: "cnn"})
	if err != nil {
		t.Fatal(err)
	}
	const lr, batch, steps = 1e-2, 100, 5
	total := train.N / batch // one epoch
	for _, schedule := range []string{"constant", "cosine"} {
		res, err := Run(testBackend(t), task, train, val, Options{Epochs: 1, Batch: batch, LR: lr, Schedule: schedule, Seed: 1, MaxSteps: steps}, nil)
		if err != nil {
			t.Fatal(err)
		}
		v := res.Ctx.In(optimizers.Scope).GetVariable(optimizers.ParamLearningRate)
		if v == nil {
			t.Fatalf("%s: no learning-rate variable", schedule)
		}
		got := float64(tensors.ToScalar[float32](v.MustValue()))
		want := lr
		if schedule == "cosine" {
			want = lr/100 + (lr-lr/100)*(1+math.Cos(math.Pi*float64(steps-1)/float64(total)))/2
		}
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s: learning rate after %d of %d steps %.6g, want %.6g", schedule, steps, total, got, want)
		}
	}
	if _, err := Run(testBackend(t), task, train, val, Options{Epochs: 1, Batch: batch, LR: lr, Schedule: "step", MaxSteps: 1}, nil); err == nil {
		t.Error("unknown schedule accepted")
	}
}

// TestClassifierSpecRoundTrip: a DenseNet's architecture survives the manifest (JSON numbers), so
// inference rebuilds the trained network; broken configurations are refused.
// TestAEConfigRoundTrip reads an autoencoder's config back from a manifest through JSON, the spatial
// code and quantization noise included, and reads a config without those keys (older weights) as off.
func TestAEConfigRoundTrip(t *testing.T) {
	cfg := models.DefaultAEConfig(models.DAE)
	cfg.Channels = [2]int{8, 16}
	cfg.SpatialCode, cfg.CodeSize, cfg.QuantNoise = true, 7*7*16, 2
	encoded, err := jsonRoundTrip(AEConfigToMap(cfg))
	if err != nil {
		t.Fatal(err)
	}
	back, err := AEConfigFromMap(encoded)
	if err != nil {
		t.Fatal(err)
	}
	if back != cfg {
		t.Errorf("round trip: got %+v, want %+v", back, cfg)
	}
	vae := models.DefaultAEConfig(models.VAE)
	vae.Hidden = 256
	if encoded, err = jsonRoundTrip(AEConfigToMap(vae)); err != nil {
		t.Fatal(err)
	}
	if back, err = AEConfigFromMap(encoded); err != nil || back != vae {
		t.Errorf("round trip: got %+v (%v), want %+v", back, err, vae)
	}
	old := AEConfigToMap(models.DefaultAEConfig(models.DAE))
	if _, has := old["spatial_code"]; has {
		t.Error("a dense-code config records spatial_code")
	}
	if _, has := old["hidden"]; has {
		t.Error("a config without a hidden layer records hidden")
	}
	if back, err := AEConfigFromMap(old); err != nil || back.SpatialCode || back.Hidden != 0 {
		t.Errorf("older config: %+v, %v", back, err)
	}
}

func TestClassifierSpecRoundTrip(t *testing.T) {
	spec, err := NewClassifierSpec("densenet", "small")
	if err != nil {
		t.Fatal(err)
	}
	spec.DenseNet.Growth, spec.DenseNet.Dropout = 8, 0.2
	task, err := ClassifierTask(spec)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON, as a weights file's manifest is read back.
	m := Manifest(task, Options{Epochs: 1})
	encoded, err := jsonRoundTrip(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ClassifierSpecFromMap("densenet", encoded)
	if err != nil {
		t.Fatal(err)
	}
	if back != spec {
		t.Errorf("round trip: got %+v, want %+v", back, spec)
	}
	for _, bad := range []map[string]any{
		{"growth": 0, "blocks": 3, "layers_per_block": 4, "init_channels": 24, "compression": 0.5},
		{"growth": 12, "blocks": 9, "layers_per_block": 4, "init_channels": 24, "compression": 0.5},
		{"growth": 12, "blocks": 3, "layers_per_block": 4, "init_channels": 24, "compression": 0},
	} {
		if _, err := ClassifierSpecFromMap("densenet", bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := NewClassifierSpec("capsnet", "huge"); err == nil {
		t.Error("capsnet size huge accepted")
	}
	if _, err := ClassifierSpecFromMap("ae", nil); err == nil {
		t.Error("an autoencoder accepted as a classifier")
	}
}

func jsonRoundTrip(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(b, &out)
}

// TestStop: Options.Stop ends the run after the step it answers true, with the weights so far.
func TestStop(t *testing.T) {
	train, val := testData(t)
	task, err := ClassifierTask(ClassifierSpec{Model: "cnn"})
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	res, err := Run(testBackend(t), task, train, val, Options{Epochs: 2, Batch: 100, LR: 1e-3, Seed: 1, Stop: func() bool { asked++; return asked == 3 }}, nil)
	if !errors.Is(err, ErrStopped) || res == nil || res.Steps != 3 {
		t.Fatalf("got %v after %d steps, want ErrStopped after 3", err, res.Steps)
	}
}
