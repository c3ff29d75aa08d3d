package training

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// head returns d's first n digits.
func head(d *Data, n int) *Data {
	return &Data{Images: d.Images[:n*784], Labels: d.Labels[:n], N: n}
}

// TestOptionsRefused: options that cannot make a sensible run are errors before anything is built
// (an epoch count of 0 used to write a weights file with no tensors; a negative learning rate ran).
func TestOptionsRefused(t *testing.T) {
	trainData, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.DenseAE))
	good := Options{Epochs: 1, Batch: 100, LR: 1e-3, Seed: 1, ValSize: val.N}
	if err := good.Validate(trainData, val); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for name, change := range map[string]func(*Options){
		"0 epochs":          func(o *Options) { o.Epochs = 0 },
		"negative epochs":   func(o *Options) { o.Epochs = -1 },
		"batch 0":           func(o *Options) { o.Batch = 0 },
		"batch -1":          func(o *Options) { o.Batch = -1 },
		"batch > digits":    func(o *Options) { o.Batch = trainData.N + 1 },
		"negative LR":       func(o *Options) { o.LR = -1 },
		"LR 0":              func(o *Options) { o.LR = 0 },
		"LR NaN":            func(o *Options) { o.LR = math.NaN() },
		"LR +Inf":           func(o *Options) { o.LR = math.Inf(1) },
		"schedule":          func(o *Options) { o.Schedule = "linear" },
		"max steps":         func(o *Options) { o.MaxSteps = -1 },
		"checkpoint every":  func(o *Options) { o.CheckpointEvery = -time.Second },
		"devices":           func(o *Options) { o.Devices = -1 },
		"limit":             func(o *Options) { o.Limit = -1 },
		"val size":          func(o *Options) { o.ValSize = -1 },
		"val size mismatch": func(o *Options) { o.ValSize = val.N + 1 },
		"resume, no file":   func(o *Options) { o.Resume = true },
		"too many epochs":   func(o *Options) { o.Epochs = math.MaxInt32 },
	} {
		opt := good
		change(&opt)
		res, err := Run(testBackend(t), task, trainData, val, opt, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "training: ") {
			t.Errorf("%s: Run returned %v, want a training: error", name, err)
		}
		if res != nil {
			t.Errorf("%s: Run returned a result", name)
		}
	}
}

// TestValidationSmallerThanBatch: a validation split smaller than one batch is evaluated (it used to
// report and store a loss of 0), and one that a batch does not divide counts every digit: the loss
// is the same whatever the batch.
func TestValidationSmallerThanBatch(t *testing.T) {
	trainData, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.DenseAE))
	res, err := Run(testBackend(t), task, head(trainData, 256), head(val, 100), Options{Epochs: 1, Batch: 128, LR: 1e-3, Seed: 1, ValSize: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := res.History[0].ValLoss; !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("validation loss of 100 digits with batch 128: %v", v)
	}
	// The same weights evaluated in batches of 150 (one full batch and 50 digits) and 200 (one).
	ctx := context.New()
	ctx.SetParam(initializers.ParamInitialSeed, int64(1))
	trainer := train.NewTrainer(testBackend(t), ctx, task.ModelFn, task.LossFn, optimizers.Adam().Done(), nil, nil)
	whole, err := evalLoss(trainer, task, val, val.N)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{150, 64, 1000} {
		got, err := evalLoss(trainer, task, val, batch)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-whole) > 1e-4*whole {
			t.Errorf("validation loss in batches of %d: %v; in one batch: %v", batch, got, whole)
		}
	}
}

// TestNonFiniteNamesNoMissingCheckpoint: a run whose loss turns NaN before its first checkpoint says
// none was written, rather than naming a checkpoint file that does not exist.
func TestNonFiniteNamesNoMissingCheckpoint(t *testing.T) {
	trainData, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.DenseAE))
	ckpt := filepath.Join(t.TempDir(), "run.ckpt")
	opt := Options{Epochs: 1, Batch: 100, LR: 1e12, Seed: 1, Checkpoint: ckpt, CheckpointEvery: time.Hour}
	_, err := Run(testBackend(t), task, trainData, val, opt, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("learning rate 1e12: %v, want ErrNonFinite", err)
	}
	t.Logf("error: %v", err)
	if _, statErr := os.Stat(ckpt); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("a checkpoint was written: %v", statErr)
	}
	if strings.Contains(err.Error(), ckpt) || !strings.Contains(err.Error(), "no checkpoint was written") {
		t.Errorf("the error names a checkpoint that does not exist: %v", err)
	}
}
