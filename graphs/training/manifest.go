package training

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/weights"
)

func saveCheckpoint(ctx *context.Context, task *Task, opt Options, state checkpointState) error {
	f, err := checkpointFile(ctx, task, opt, state)
	if err != nil {
		return err
	}
	if err := weights.WriteFile(opt.Checkpoint, f); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// checkpointFile snapshots the context (variables, optimizer and RNG state) with the run's position.
func checkpointFile(ctx *context.Context, task *Task, opt Options, state checkpointState) (*weights.File, error) {
	m, err := Manifest(task, opt)
	if err != nil {
		return nil, err
	}
	m.Training.Checkpoint = &weights.Position{Epoch: state.Epoch, Step: state.Step}
	m.Training.History = state.History
	f, err := weights.FromContext(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if name, ok := firstNonFinite(f); ok {
		return nil, fmt.Errorf("%w: variable %s at epoch %d step %d", ErrNonFinite, name, state.Epoch+1, state.Step) // Run says where the last good weights are
	}
	return f, nil
}

// loadCheckpoint restores ctx from the checkpoint in memory (from) or, when from is nil, the file path.
func loadCheckpoint(ctx *context.Context, task *Task, path string, from *weights.File) (checkpointState, error) {
	var state checkpointState
	f := from
	if f == nil {
		if path == "" {
			return state, errors.New("--resume needs a checkpoint file")
		}
		var err error
		f, err = weights.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return state, fmt.Errorf("nothing to resume: checkpoint %s does not exist", path)
		}
		if err != nil {
			return state, fmt.Errorf("resume: %w", err)
		}
	} else {
		path = "in memory"
	}
	if f.Manifest.Model != task.Model {
		return state, fmt.Errorf("resume: checkpoint %s is a %q model, not %q", path, f.Manifest.Model, task.Model)
	}
	want, err := CanonicalJSON(task.Config)
	if err != nil {
		return state, err
	}
	have, err := CanonicalJSON(f.Manifest.Config)
	if err != nil || !bytes.Equal(have, want) {
		return state, fmt.Errorf("resume: checkpoint %s has the configuration %s, this run %s", path, f.Manifest.Config, want)
	}
	rec, ok := f.Manifest.TrainingRecord()
	if !ok || rec.Checkpoint == nil {
		return state, fmt.Errorf("resume: %s is not a checkpoint (no training position)", path)
	}
	if err := f.LoadInto(ctx); err != nil {
		return state, fmt.Errorf("resume: %w", err)
	}
	state.Epoch, state.Step, state.History = rec.Checkpoint.Epoch, rec.Checkpoint.Step, rec.History
	return state, nil
}

// loadInit loads the model's variables of f (trained weights or a checkpoint; its optimizer and RNG
// state are left out) into ctx. The caller has checked f's configuration is the run's (the model
// registry reads every manifest's form, old ones included: zoo.Model.CheckInit); the variables'
// shapes are checked as they load.
func loadInit(ctx *context.Context, task *Task, f *weights.File) error {
	if f.Manifest.Model != task.Model {
		return fmt.Errorf("init: the weights are a %q model, not %q", f.Manifest.Model, task.Model)
	}
	if err := f.LoadInto(ctx, weights.WithoutTrainingState()); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

// initRecord is the manifest's record of the weights a run started from.
func initRecord(f *weights.File) (*weights.Init, error) {
	id, err := f.ID()
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	rec := &weights.Init{ID: id, Command: f.Manifest.Command}
	if t, ok := f.Manifest.TrainingRecord(); ok {
		rec.Epochs, rec.Init = len(t.History), t.Init
		if t.Checkpoint != nil {
			rec.Epochs = t.Checkpoint.Epoch
		}
	}
	return rec, nil
}

// CanonicalJSON is v as JSON with every object's keys sorted, so two configurations compare by value.
func CanonicalJSON(v any) ([]byte, error) {
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("model configuration: %w", err)
		}
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("model configuration: %w", err)
	}
	return json.Marshal(generic)
}

// Manifest returns the manifest of weights trained by task with opt (metrics are added by the
// caller): the model's configuration whole, and the training record.
func Manifest(task *Task, opt Options) (weights.Manifest, error) {
	cfg, err := CanonicalJSON(task.Config)
	if err != nil {
		return weights.Manifest{}, err
	}
	schedule := opt.Schedule
	if schedule == "constant" {
		schedule = ""
	}
	tr := &weights.Training{Epochs: opt.Epochs, Batch: opt.Batch, LR: opt.LR, WeightDecay: opt.WeightDecay, Schedule: schedule, ValSize: opt.ValSize, Limit: opt.Limit}
	if opt.Init != nil {
		if tr.Init, err = initRecord(opt.Init); err != nil {
			return weights.Manifest{}, err
		}
	}
	return weights.Manifest{Model: task.Model, Config: cfg, Command: opt.Command, Seed: opt.Seed,
		Training: tr,
		Backend:  opt.Backend, TrainedAt: time.Now().UTC().Format(time.RFC3339), Metrics: map[string]float64{}}, nil
}

// FinalWeights packs the trained variables without optimizer state, with metrics and history.
func FinalWeights(res *Result, task *Task, opt Options, metrics map[string]float64) (*weights.File, error) {
	m, err := Manifest(task, opt)
	if err != nil {
		return nil, err
	}
	for k, v := range metrics {
		m.Metrics[k] = v
	}
	m.Training.History = res.History
	return weights.FromContext(res.Ctx, m, weights.WithoutTrainingState())
}
