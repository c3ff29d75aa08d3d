package training

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers/cosineschedule"

	"github.com/mnistzip/mnistzip/graphs/weights"
)

// Options controls one training run.
type Options struct {
	Epochs, Batch int
	LR            float64
	// WeightDecay > 0 makes the optimizer AdamW (Loshchilov & Hutter 2019): weights shrink by
	// WeightDecay × the learning rate each step, apart from the gradient's moments.
	WeightDecay float64
	// Schedule is the learning-rate schedule: "" or "constant" keeps LR; "cosine" anneals it from LR
	// to LR/100 over all the run's steps (one half cosine), which buys most of the last few tenths of
	// a percent of accuracy a short run on two CPU cores can reach.
	Schedule string
	Seed     int64
	// Checkpoint is the file periodic checkpoints go to ("" disables them); CheckpointEvery is the
	// interval (an interrupted run loses at most that much work). Checkpoints carry the optimizer and
	// RNG state, so Resume continues exactly where the checkpoint was taken.
	Checkpoint      string
	CheckpointEvery time.Duration
	Resume          bool
	// From, with Resume, is the checkpoint to continue from in memory (a host with no files: the
	// browser keeps Result.Checkpoint of a stopped run); Checkpoint is then not read.
	From *weights.File
	// Init, without Resume, starts the run from these trained weights of the same model and
	// configuration instead of a random initialization (a warm restart: the optimizer, the schedule
	// and the RNG start fresh); the manifest records which weights they were.
	Init     *weights.File
	MaxSteps int // stop after this many steps in total (0: run all epochs); for tests and smoke runs
	// Devices > 1 shards each batch across that many devices of the backend (data parallelism through
	// XLA's SPMD partitioner, see devices.go); 0 or 1 runs on one device.
	Devices int
	// Stop, if set, is asked after every step; true ends the run there (Run returns ErrStopped with
	// the result so far: a browser's stop button takes effect within one step).
	Stop    func() bool
	OnEpoch func(EpochStats) // called after each epoch's validation
	// Probe, if set, gets the weights trained so far (no optimizer state) after every ProbeEvery
	// steps and at the end of each epoch (a host measures test accuracy as training goes).
	Probe      func(f *weights.File, p Position)
	ProbeEvery int
	ValSize    int    // digits held out from the end of the training set (recorded: calibration reuses the split)
	Limit      int    // the training set was cut to its first Limit+ValSize digits (0: not cut); recorded
	Command    string // recorded in manifests
	Backend    string // recorded in manifests
}

// Progress is reported after every step.
type Progress struct {
	Epoch, Epochs, Step, StepsPerEpoch int
	Loss                               float64
	SamplesPerSec                      float64
}

// EpochStats summarizes one epoch (the manifest's record of it).
type EpochStats = weights.Epoch

// Result is a finished (or resumed and finished) run.
type Result struct {
	Ctx     *context.Context
	History []EpochStats
	Steps   int // steps run in this invocation
	// Checkpoint, after ErrStopped, is the run's state where it stopped (weights, optimizer, RNG and
	// position): Options.From resumes from it.
	Checkpoint *weights.File
}

// Position is where a run is: Epoch (1-based) and Step within it, Steps in all (resumed runs
// included), EpochEnd after the epoch's last step.
type Position struct {
	Epoch, Step, Steps int
	EpochEnd           bool
}

// ErrStopped reports a run ended by Options.Stop; the result holds the weights so far.
var ErrStopped = errors.New("training stopped")

// ErrNonFinite reports a NaN or infinite loss; the last good checkpoint is left untouched.
var ErrNonFinite = errors.New("loss is not finite")

// withLastGood adds to a non-finite error where the last good weights are (or that none were written).
func withLastGood(err error, where string) error {
	if errors.Is(err, ErrNonFinite) {
		return fmt.Errorf("%w; %s", err, where)
	}
	return err
}

// checkpointState is what a checkpoint records besides the variables.
type checkpointState struct {
	Epoch, Step int // next step to run
	History     []EpochStats
}

// Run trains task on train, validating on val after every epoch.
func Run(backend backends.Backend, task *Task, trainData, val *Data, opt Options, progress func(Progress)) (res *Result, err error) {
	defer func() {
		// GoMLX reports graph-building errors by panicking.
		if r := recover(); r != nil {
			err = fmt.Errorf("training %s: %v", task.Model, r)
		}
	}()
	if err := opt.Validate(trainData, val); err != nil {
		return nil, err
	}
	ctx := context.New()
	ctx.SetParam(initializers.ParamInitialSeed, opt.Seed)
	if err := ctx.SetRNGStateFromSeed(opt.Seed); err != nil {
		return nil, err
	}
	state := checkpointState{}
	if opt.Resume {
		if state, err = loadCheckpoint(ctx, task, opt.Checkpoint, opt.From); err != nil {
			return nil, err
		}
		ctx = ctx.Checked(false) // variables exist already: the graph reuses them
	} else if opt.Init != nil {
		if err := loadInit(ctx, task, opt.Init); err != nil {
			return nil, err
		}
		ctx = ctx.Checked(false)
	}
	stepsPerEpoch := trainData.N / opt.Batch // the last partial batch is dropped: shapes stay static
	modelFn, err := scheduled(task.ModelFn, opt, opt.Epochs*stepsPerEpoch)
	if err != nil {
		return nil, err
	}
	trainer := train.NewTrainer(backend, ctx, modelFn, task.LossFn,
		optimizers.Adam().LearningRate(opt.LR).WeightDecay(opt.WeightDecay).Done(), nil, nil)
	trainStep := func(inputs, targets []*tensors.Tensor) ([]*tensors.Tensor, error) {
		return trainer.TrainStep(nil, inputs, targets)
	}
	if opt.Devices > 1 {
		dp, err := NewDataParallel(backend, opt.Devices, opt.Batch)
		if err != nil {
			return nil, err
		}
		trainStep = func(inputs, targets []*tensors.Tensor) ([]*tensors.Tensor, error) {
			return dp.Step(trainer, inputs, targets)
		}
	}
	res = &Result{Ctx: ctx, History: state.History}
	lastCheckpoint := time.Now()
	checkpointed := opt.Resume // whether opt.Checkpoint holds good weights of this run
	lastGood := func() string {
		switch {
		case opt.Checkpoint == "":
			return "no checkpoint was written (checkpoints are off)"
		case !checkpointed:
			return "no checkpoint was written yet"
		}
		return "the last good checkpoint is " + opt.Checkpoint
	}
	var pending *weights.File // a checkpoint snapshot waiting for the next finite loss
	for epoch := state.Epoch; epoch < opt.Epochs; epoch++ {
		order := epochOrder(trainData.N, opt.Seed, epoch)
		epochStart := time.Now()
		var lossSum float64
		var lossCount int
		first := 0
		if epoch == state.Epoch {
			first = state.Step
		}
		for step := first; step < stepsPerEpoch; step++ {
			stepStart := time.Now()
			images, labels := trainData.Batch(order[step*opt.Batch : (step+1)*opt.Batch])
			inputs, targets := task.Feed(images, labels)
			metrics, err := trainStep(inputs, targets)
			if err != nil {
				return res, fmt.Errorf("epoch %d step %d: %w", epoch+1, step+1, err)
			}
			loss := scalar(metrics[0])
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return res, fmt.Errorf("%w at epoch %d step %d (loss %v); %s", ErrNonFinite, epoch+1, step+1, loss, lastGood())
			}
			lossSum += loss
			lossCount++
			res.Steps++
			if progress != nil {
				progress(Progress{Epoch: epoch + 1, Epochs: opt.Epochs, Step: step + 1, StepsPerEpoch: stepsPerEpoch,
					Loss: loss, SamplesPerSec: float64(opt.Batch) / time.Since(stepStart).Seconds()})
			}
			// This step's finite loss vouches for the weights the previous checkpoint snapshot holds.
			if pending != nil {
				if err := weights.WriteFile(opt.Checkpoint, pending); err != nil {
					return res, fmt.Errorf("checkpoint: %w", err)
				}
				pending, checkpointed = nil, true
			}
			if opt.Checkpoint != "" && opt.CheckpointEvery > 0 && time.Since(lastCheckpoint) >= opt.CheckpointEvery {
				// A step's loss is computed before its update, so the weights after a finite loss can
				// still be ruined: snapshot now, write only once the next step's loss is finite too.
				if pending, err = checkpointFile(ctx, task, opt, checkpointState{Epoch: epoch, Step: step + 1, History: res.History}); err != nil {
					return res, withLastGood(err, lastGood())
				}
				lastCheckpoint = time.Now()
			}
			done := epoch*stepsPerEpoch + step + 1 // steps of the whole run so far
			if opt.Probe != nil && opt.ProbeEvery > 0 && done%opt.ProbeEvery == 0 && step+1 < stepsPerEpoch {
				if err := probe(ctx, task, opt, Position{Epoch: epoch + 1, Step: step + 1, Steps: done}); err != nil {
					return res, err
				}
			}
			if opt.MaxSteps > 0 && res.Steps >= opt.MaxSteps {
				return res, nil
			}
			if opt.Stop != nil && opt.Stop() {
				res.Checkpoint, err = checkpointFile(ctx, task, opt, checkpointState{Epoch: epoch, Step: step + 1, History: res.History})
				if err != nil {
					return res, err
				}
				return res, ErrStopped
			}
		}
		stats := EpochStats{Epoch: epoch + 1, TrainLoss: lossSum / float64(max(1, lossCount)), Seconds: time.Since(epochStart).Seconds()}
		if stats.ValLoss, err = evalLoss(trainer, task, val, opt.Batch); err != nil {
			return res, err
		}
		if math.IsNaN(stats.ValLoss) || math.IsInf(stats.ValLoss, 0) {
			return res, fmt.Errorf("%w: validation loss %v after epoch %d; %s", ErrNonFinite, stats.ValLoss, epoch+1, lastGood())
		}
		pending = nil // superseded by the end-of-epoch checkpoint, vouched for by the validation loss
		res.History = append(res.History, stats)
		if opt.OnEpoch != nil {
			opt.OnEpoch(stats)
		}
		if opt.Probe != nil {
			if err := probe(ctx, task, opt, Position{Epoch: epoch + 1, Step: stepsPerEpoch, Steps: (epoch + 1) * stepsPerEpoch, EpochEnd: true}); err != nil {
				return res, err
			}
		}
		if opt.Checkpoint != "" {
			if err := saveCheckpoint(ctx, task, opt, checkpointState{Epoch: epoch + 1, History: res.History}); err != nil {
				return res, withLastGood(err, lastGood())
			}
			lastCheckpoint, checkpointed = time.Now(), true
		}
	}
	return res, nil
}

// probe hands Options.Probe the weights trained so far.
func probe(ctx *context.Context, task *Task, opt Options, p Position) error {
	m, err := Manifest(task, opt)
	if err != nil {
		return err
	}
	f, err := weights.FromContext(ctx, m, weights.WithoutTrainingState())
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	opt.Probe(f, p)
	return nil
}

// Schedules lists the learning-rate schedules Options.Schedule accepts.
var Schedules = []string{"constant", "cosine"}

// scheduled wraps modelFn so that training graphs also update the learning rate. The schedule's step
// counter is a context variable, so checkpoints carry it and a resumed run continues the same curve.
func scheduled(modelFn train.ModelFn, opt Options, totalSteps int) (train.ModelFn, error) {
	switch opt.Schedule {
	case "", "constant":
		return modelFn, nil
	case "cosine":
		return func(ctx *context.Context, spec any, inputs []*Node) []*Node {
			cosineschedule.New(ctx, inputs[0].Graph(), dtypes.Float32).
				LearningRate(opt.LR).MinLearningRate(opt.LR / 100).PeriodSteps(max(1, totalSteps)).Done()
			return modelFn(ctx, spec, inputs)
		}, nil
	}
	return nil, fmt.Errorf("unknown learning-rate schedule %q: want constant or cosine", opt.Schedule)
}

// evalLoss is the mean loss over every digit of val, in inference mode: its full batches, then one
// partial batch of the rest (a validation split smaller than a batch is that one batch). It goes
// through Trainer.Eval, which resets the running-mean loss metric first (EvalStep alone would keep
// averaging across epochs) and weights each batch's mean by its size.
func evalLoss(trainer *train.Trainer, task *Task, val *Data, batch int) (float64, error) {
	if val == nil || val.N == 0 {
		return 0, nil
	}
	metrics, err := trainer.Eval(&evalDataset{task: task, data: val, batch: batch})
	if err != nil {
		return 0, fmt.Errorf("validation: %w", err)
	}
	return scalar(metrics[0]), nil
}

// evalDataset yields val's batches in order, the last one partial when batch does not divide val.N,
// as train.Dataset.
type evalDataset struct {
	task  *Task
	data  *Data
	batch int
	next  int
}

func (d *evalDataset) Name() string { return "validation" }
func (d *evalDataset) Reset()       { d.next = 0 }
func (d *evalDataset) Yield() (spec any, inputs, labels []*tensors.Tensor, err error) {
	start := d.next * d.batch
	if start >= d.data.N {
		return nil, nil, nil, io.EOF
	}
	idx := make([]int, min(d.batch, d.data.N-start))
	for i := range idx {
		idx[i] = start + i
	}
	d.next++
	images, lab := d.data.Batch(idx)
	inputs, labels = d.task.Feed(images, lab)
	return nil, inputs, labels, nil
}

func scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// firstNonFinite returns the first float32 tensor holding a NaN or an infinity.
func firstNonFinite(f *weights.File) (string, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].DType != weights.Float32 {
			continue
		}
		values, err := f.Tensors[i].Float32s()
		if err != nil {
			continue
		}
		for _, v := range values {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return f.Tensors[i].Name, true
			}
		}
	}
	return "", false
}
