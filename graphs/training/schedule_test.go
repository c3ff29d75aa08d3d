package training

import (
	"errors"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
)

// TestCosineSchedule: after k of n steps the learning rate the optimizer used for step k is
// LR/100 + (LR − LR/100)·(1 + cos(π(k−1)/n))/2, and the constant schedule leaves it at LR.
func TestCosineSchedule(t *testing.T) {
	train, val := testData(t)
	task := cnnTask(1)
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

// TestStop: Options.Stop ends the run after the step it answers true, with the weights so far.
func TestStop(t *testing.T) {
	train, val := testData(t)
	task := cnnTask(1)
	asked := 0
	res, err := Run(testBackend(t), task, train, val, Options{Epochs: 2, Batch: 100, LR: 1e-3, Seed: 1, Stop: func() bool { asked++; return asked == 3 }}, nil)
	if !errors.Is(err, ErrStopped) || res == nil || res.Steps != 3 {
		t.Fatalf("got %v after %d steps, want ErrStopped after 3", err, res.Steps)
	}
}
