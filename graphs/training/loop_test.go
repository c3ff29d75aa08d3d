package training

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func testData(t *testing.T) (*Data, *Data) {
	t.Helper()
	set, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	return SplitValidation(set, 200)
}

func testBackend(t *testing.T) *engine.Backend {
	b, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAutoencoderLossFalls: a few epochs on 800 real digits must bring the validation loss well below
// the first epoch's training loss, for the plain AE and the VAE.
func TestAutoencoderLossFalls(t *testing.T) {
	train, val := testData(t)
	for _, kind := range []models.AEKind{models.AE, models.VAE} {
		task := AETask(models.DefaultAEConfig(kind))
		res, err := Run(testBackend(t), task, train, val, Options{Epochs: 3, Batch: 50, LR: 2e-3, Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		first, last := res.History[0].TrainLoss, res.History[len(res.History)-1].ValLoss
		t.Logf("%s: first epoch training loss %.4f, last validation loss %.4f", kind, first, last)
		if !(last < 0.8*first) {
			t.Errorf("%s: loss fell from %.4f to %.4f only", kind, first, last)
		}
	}
}

// TestResumeIsExact: an interrupted run resumed from its checkpoint ends with the same weights as an
// uninterrupted one (same batches, same noise, same optimizer state).
func TestResumeIsExact(t *testing.T) {
	train, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.DAE))
	dir := t.TempDir()
	opt := Options{Epochs: 2, Batch: 100, LR: 1e-3, Seed: 7}
	full, err := Run(testBackend(t), task, train, val, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	// "Interrupted" after epoch 1 (the checkpoint is written at every epoch end), then resumed.
	part := opt
	part.Epochs, part.Checkpoint = 1, filepath.Join(dir, "ckpt")
	if _, err := Run(testBackend(t), task, train, val, part, nil); err != nil {
		t.Fatal(err)
	}
	part.Epochs, part.Resume = 2, true
	resumed, err := Run(testBackend(t), task, train, val, part, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Steps != train.N/opt.Batch {
		t.Errorf("resumed run took %d steps, want one epoch (%d)", resumed.Steps, train.N/opt.Batch)
	}
	worst := largestDifference(t, full, resumed, task, opt)
	t.Logf("largest weight difference, uninterrupted vs resumed: %g", worst)
	if worst > 1e-5 {
		t.Errorf("resumed run differs from the uninterrupted one by up to %g", worst)
	}
	if len(resumed.History) != 2 || math.Abs(resumed.History[1].ValLoss-full.History[1].ValLoss) > 1e-4 {
		t.Errorf("histories differ: %+v vs %+v", resumed.History, full.History)
	}
}

// largestDifference is the largest absolute difference between the final weights of two runs.
func largestDifference(t *testing.T, x, y *Result, task *Task, opt Options) float64 {
	t.Helper()
	a, err := FinalWeights(x, task, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FinalWeights(y, task, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for _, name := range a.Names() {
		ta, _ := a.Get(name)
		tb, ok := b.Get(name)
		if !ok {
			t.Fatalf("resumed weights lack %s", name)
		}
		va, _ := ta.Float32s()
		vb, _ := tb.Float32s()
		for i := range va {
			worst = math.Max(worst, math.Abs(float64(va[i]-vb[i])))
		}
	}
	return worst
}

// A stopped run hands back its state in memory (the browser has no files), and resuming from it
// mid-epoch ends where an uninterrupted run ends; probes see every ProbeEvery steps and epoch ends.
func TestStopAndResumeInMemory(t *testing.T) {
	train, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.AE))
	opt := Options{Epochs: 2, Batch: 100, LR: 1e-3, Seed: 3}
	full, err := Run(testBackend(t), task, train, val, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	part := opt
	part.Stop = func() bool { steps++; return steps == 3 }
	var probes []Position
	part.ProbeEvery = 2
	part.Probe = func(f *weights.File, p Position) {
		if len(f.Names()) == 0 {
			t.Error("probe got no weights")
		}
		probes = append(probes, p)
	}
	stopped, err := Run(testBackend(t), task, train, val, part, nil)
	if !errors.Is(err, ErrStopped) || stopped.Checkpoint == nil {
		t.Fatalf("stop: %v, checkpoint %v", err, stopped.Checkpoint != nil)
	}
	part.Stop, part.Resume, part.From = nil, true, stopped.Checkpoint
	resumed, err := Run(testBackend(t), task, train, val, part, nil)
	if err != nil {
		t.Fatal(err)
	}
	perEpoch := train.N / opt.Batch
	if resumed.Steps != 2*perEpoch-3 {
		t.Errorf("resumed run took %d steps, want %d", resumed.Steps, 2*perEpoch-3)
	}
	if worst := largestDifference(t, full, resumed, task, opt); worst > 1e-5 {
		t.Errorf("stopped and resumed run differs from the uninterrupted one by up to %g", worst)
	}
	var want []Position // every second step, the epochs' ends instead of their last steps
	for n := 2; n <= 2*perEpoch; n += 2 {
		epoch, step := (n-1)/perEpoch+1, (n-1)%perEpoch+1
		want = append(want, Position{Epoch: epoch, Step: step, Steps: n, EpochEnd: step == perEpoch})
	}
	if !reflect.DeepEqual(probes, want) {
		t.Errorf("probes at %+v, want %+v", probes, want)
	}
}

func TestResumeRefusesOtherModel(t *testing.T) {
	train, val := testData(t)
	dir := t.TempDir()
	ae := AETask(models.DefaultAEConfig(models.AE))
	opt := Options{Epochs: 1, Batch: 100, LR: 1e-3, Seed: 1, Checkpoint: filepath.Join(dir, "ckpt"), MaxSteps: 0}
	if _, err := Run(testBackend(t), ae, train, val, opt, nil); err != nil {
		t.Fatal(err)
	}
	vae := AETask(models.DefaultAEConfig(models.VAE))
	opt.Resume, opt.Epochs = true, 2
	if _, err := Run(testBackend(t), vae, train, val, opt, nil); err == nil {
		t.Fatal("resuming a VAE from an AE checkpoint succeeded")
	}
	opt.Checkpoint = filepath.Join(dir, "missing")
	if _, err := Run(testBackend(t), ae, train, val, opt, nil); err == nil {
		t.Fatal("resuming from a missing checkpoint succeeded")
	}
}

// TestNonFiniteLossStops: a run whose loss becomes NaN stops with ErrNonFinite and leaves the last
// good checkpoint as it was.
func TestNonFiniteLossStops(t *testing.T) {
	train, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.AE))
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	good := Options{Epochs: 1, Batch: 100, LR: 1e-3, Seed: 1, Checkpoint: ckpt}
	if _, err := Run(testBackend(t), task, train, val, good, nil); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Epochs, bad.Resume, bad.LR, bad.CheckpointEvery = 2, true, 1e12, time.Nanosecond
	_, err = Run(testBackend(t), task, train, val, bad, nil)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("learning rate 1e12: got %v, want ErrNonFinite", err)
	}
	t.Logf("error: %v", err)
	after, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the checkpoint changed after the loss became NaN")
	}
}

// TestRateTermInLoss: with --rate the training loss carries the code's bits (weight × bits per image
// / 784) on top of the reconstruction, so it starts far above the same model's without it; the
// validation loss (inference: no noise, no rate) stays the reconstruction alone.
func TestRateTermInLoss(t *testing.T) {
	train, val := testData(t)
	opts := Options{Epochs: 1, Batch: 50, LR: 1e-3, Seed: 1}
	losses := map[float64]EpochStats{}
	for _, rate := range []float64{0, 2} {
		cfg := models.DefaultAEConfig(models.AE)
		cfg.QuantNoise, cfg.Rate = 4, rate
		res, err := Run(testBackend(t), AETask(cfg), train, val, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		losses[rate] = res.History[0]
	}
	t.Logf("without rate %+v; rate 2: %+v", losses[0], losses[2])
	// 32 code values at about 2 bits each under the initial entropy model: 2 × 64 / 784 ≈ 0.16.
	if d := losses[2].TrainLoss - losses[0].TrainLoss; d < 0.05 {
		t.Errorf("rate 2 adds %.4f to the training loss, want the bits' share (≈ 0.16)", d)
	}
	if v := losses[2].ValLoss; v > 1 || v <= 0 {
		t.Errorf("validation loss %.4f with a rate term, want the reconstruction loss alone", v)
	}
}

// TestWeightDecayShrinks: with AdamW's decay the same steps end with smaller weights (the option
// reaches the optimizer), and the manifest records it.
func TestWeightDecayShrinks(t *testing.T) {
	train, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.AE))
	norm := func(decay float64) float64 {
		opt := Options{Epochs: 1, Batch: 100, LR: 1e-2, Seed: 1, MaxSteps: 5, WeightDecay: decay}
		res, err := Run(testBackend(t), task, train, val, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := FinalWeights(res, task, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Manifest.Training.WeightDecay != decay {
			t.Errorf("manifest records weight decay %g, want %g", f.Manifest.Training.WeightDecay, decay)
		}
		sum := 0.0
		for _, name := range f.Names() {
			tensor, _ := f.Get(name)
			v, _ := tensor.Float32s()
			for _, x := range v {
				sum += float64(x) * float64(x)
			}
		}
		return sum
	}
	plain, decayed := norm(0), norm(1)
	t.Logf("sum of squared weights after 5 steps: %.2f plain, %.2f with decay 1", plain, decayed)
	if !(decayed < plain*0.99) {
		t.Errorf("weight decay did not shrink the weights: %.3f vs %.3f", decayed, plain)
	}
}

// TestInitStartsFromWeights: a run with Init starts from those weights (at a negligible learning
// rate its validation loss is theirs, not a random initialization's), records which weights they
// were, and refuses another model's.
func TestInitStartsFromWeights(t *testing.T) {
	train, val := testData(t)
	task := AETask(models.DefaultAEConfig(models.AE))
	opt := Options{Epochs: 1, Batch: 100, LR: 2e-3, Seed: 1}
	first, err := Run(testBackend(t), task, train, val, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	trained, err := FinalWeights(first, task, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	still := Options{Epochs: 1, Batch: 100, LR: 1e-9, Seed: 2}
	fresh, err := Run(testBackend(t), task, train, val, still, nil)
	if err != nil {
		t.Fatal(err)
	}
	warm := still
	warm.Init = trained
	res, err := Run(testBackend(t), task, train, val, warm, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, got, random := first.History[0].ValLoss, res.History[0].ValLoss, fresh.History[0].ValLoss
	t.Logf("validation loss: trained %.6f, started from them %.6f, random start %.6f", want, got, random)
	if math.Abs(got-want) > 1e-4*want || !(random > 1.2*want) {
		t.Errorf("validation loss started from the weights %.6f, want theirs %.6f (a random start gives %.6f)", got, want, random)
	}
	f, err := FinalWeights(res, task, warm, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := trained.ID()
	if rec := f.Manifest.Training.Init; rec == nil || rec.ID != id || rec.Epochs != 1 || rec.Init != nil {
		t.Errorf("manifest's init record %+v, want id %s and 1 epoch", rec, id)
	}
	vae := AETask(models.DefaultAEConfig(models.VAE))
	if _, err := Run(testBackend(t), vae, train, val, warm, nil); err == nil {
		t.Error("a VAE run started from AE weights")
	}
}
