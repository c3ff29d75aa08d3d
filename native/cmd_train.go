package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// maxEpochs bounds --epochs (a schedule counts every step of the run in an int).
const maxEpochs = 100000

// trainOptions are train's flags, checked; task is the model's training task their model flags build.
type trainOptions struct {
	model         string
	epochs, batch int
	lr, decay     float64
	schedule      string
	seed          int64
	limit, val    int
	backend       backendFlags
	devices       int
	data, out     string
	force, resume bool
	checkpoint    string
	init          string
	every         time.Duration
	maxSteps      int
	maxTime       time.Duration
	cpuProfile    string
	task          *training.Task
	initFile      *weights.File
}

func init() {
	register(&command{
		name:    "train",
		summary: "Train a model on MNIST (validation split held out from the training set) and write its weights.",
		usage:   "--model " + strings.Join(zoo.Names(), "|") + " [flags] -o WEIGHTS",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o trainOptions
			fs.StringVar(&o.model, "model", "", fmt.Sprintf("model: %s (autoencoders); %s (classifiers)", strings.Join(zoo.Names(zoo.Autoencoder), ", "), strings.Join(zoo.Names(zoo.Classifier), ", ")))
			fs.IntVar(&o.epochs, "epochs", 10, fmt.Sprintf("epochs over the training split, 1…%d", maxEpochs))
			fs.IntVar(&o.batch, "batch", 128, "batch size (at most the training digits)")
			fs.Float64Var(&o.lr, "lr", 1e-3, "Adam learning rate, in (0, 10]")
			fs.Float64Var(&o.decay, "weight-decay", 0, "decoupled weight decay (AdamW), in [0, 1]: each step shrinks the weights by this fraction times the learning rate")
			fs.StringVar(&o.schedule, "lr-schedule", "constant", "learning-rate schedule: constant, or cosine (from --lr down to --lr/100 over the run)")
			fs.Int64Var(&o.seed, "seed", 1, "seed for initialization, shuffling and noise")
			fs.IntVar(&o.limit, "limit", 0, "train on the first N training digits only (0: all)")
			fs.IntVar(&o.val, "val", 5000, "digits held out from the end of the training set for validation (0: none)")
			modelConfig := addConfigFlags(fs)
			o.backend.add(fs)
			fs.IntVar(&o.devices, "devices", 0, "data parallelism: shard each batch across N devices of the XLA backend (0: every GPU with xla:cuda, one device otherwise)")
			fs.StringVar(&o.data, "data", mnist.DefaultDir, "MNIST data folder")
			fs.StringVarP(&o.out, "output", "o", "", "weights file to write")
			fs.BoolVarP(&o.force, "force", "f", false, "overwrite the output file")
			fs.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file (default: OUTPUT.ckpt)")
			fs.DurationVar(&o.every, "checkpoint-every", 2*time.Minute, "checkpoint interval (0: at the end of each epoch only)")
			fs.BoolVar(&o.resume, "resume", false, "continue from the checkpoint")
			fs.StringVar(&o.init, "init", "", "start from these trained weights (same model and architecture; dropout and shifts may differ) instead of a random initialization; the optimizer and the schedule start afresh (a warm restart), and the manifest records which weights they were")
			fs.IntVar(&o.maxSteps, "max-steps", 0, "stop after N steps (smoke runs; 0: no limit)")
			fs.DurationVar(&o.maxTime, "max-time", 0, "stop after this long (at the end of a step) and write the weights trained so far (0: no limit)")
			fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("unexpected argument %q", args[0])
				}
				if err := o.check(); err != nil {
					return nil, err
				}
				if o.model == "" {
					return nil, usagef("--model is required: %s", strings.Join(zoo.Names(), ", "))
				}
				m, err := zoo.Lookup(o.model)
				if err != nil {
					return nil, usagef("--model: %v", err)
				}
				if o.task, err = modelConfig.task(m); err != nil {
					return nil, err
				}
				if o.init != "" {
					// Read and checked now, before the data: a wrong file is a one-line refusal at once.
					if o.initFile, err = weights.ReadFile(o.init); err != nil {
						return nil, fmt.Errorf("--init: %w", err)
					}
					if err := m.CheckInit(o.initFile, o.task); err != nil {
						return nil, usagef("--init %s: %v", o.init, err)
					}
				}
				if o.out == "" {
					return nil, usagef("-o WEIGHTS is required")
				}
				if o.checkpoint == "" {
					o.checkpoint = o.out + ".ckpt"
				}
				// The outputs' folders are checked now, not at the first checkpoint or the end of the run.
				if err := checkOutputPath(o.out, o.force || o.resume); err != nil {
					return nil, err
				}
				if err := checkOutputPath(o.checkpoint, true); err != nil {
					return nil, err
				}
				return func() error { return runTrain(o) }, nil
			}
		},
	})
}

// check checks the numeric flags against the MNIST training set's size: the data folder holds the
// canonical files (make data), so the ranges are known before they are read.
func (o *trainOptions) check() error {
	if err := firstError(
		checkInt("epochs", o.epochs, 1, maxEpochs, ""),
		checkInt("val", o.val, 0, mnist.TrainSize-1, ""),
	); err != nil {
		return err
	}
	if err := checkInt("limit", o.limit, 1, mnist.TrainSize-o.val, "all"); err != nil {
		return err
	}
	trainN := mnist.TrainSize - o.val
	if o.limit > 0 {
		trainN = o.limit
	}
	if err := checkInt("batch", o.batch, 1, trainN, ""); err != nil {
		if o.limit > 0 {
			return fmt.Errorf("%w (the --limit training digits)", err)
		}
		return fmt.Errorf("%w (the training digits --val %d leaves)", err, o.val)
	}
	if !slices.Contains(training.Schedules, o.schedule) {
		return usagef("--lr-schedule %q: want %s", o.schedule, strings.Join(training.Schedules, " or "))
	}
	return firstError(
		checkFloat("lr", o.lr, 0, 10, true, ""),
		checkFloat("weight-decay", o.decay, 0, 1, false, ""),
		checkInt("devices", o.devices, 1, 1024, "automatic"),
		checkDuration("checkpoint-every", o.every, 0, "at the end of each epoch only"),
		checkNonNegative("max-steps", o.maxSteps, "no limit"),
		checkDuration("max-time", o.maxTime, 0, "no limit"),
	)
}

func runTrain(o trainOptions) error {
	task := o.task
	set, err := mnist.Load(o.data, mnist.Train)
	if err != nil {
		return err
	}
	if o.val >= set.N || o.batch > set.N-o.val {
		return usagef("--val %d and --batch %d: %s holds only %d training digits", o.val, o.batch, o.data, set.N)
	}
	limit := o.limit
	if limit > 0 && limit+o.val < set.N {
		set = set.Head(limit + o.val)
	} else {
		limit = 0
	}
	trainData, valData := training.SplitValidation(set, o.val)
	backend, choice, err := o.backend.open()
	if err != nil {
		return err
	}
	nDevices, err := pickDevices(o.devices, o.batch, backend.NumDevices(), choice.Backend)
	if err != nil {
		return err
	}
	opt := training.Options{Epochs: o.epochs, Batch: o.batch, LR: o.lr, WeightDecay: o.decay, Schedule: o.schedule, Seed: o.seed, Checkpoint: o.checkpoint,
		CheckpointEvery: o.every, Resume: o.resume, Init: o.initFile, MaxSteps: o.maxSteps, ValSize: o.val, Limit: limit, Devices: nDevices,
		Command: "mnistzip " + strings.Join(os.Args[1:], " "), Backend: choice.Backend}
	onDevices := ""
	if nDevices > 1 {
		onDevices = fmt.Sprintf(", batch sharded across %d devices", nDevices)
	}
	fmt.Fprintf(stderr, "training %s on %d digits (validation %d), backend %s%s\n", task.Model, trainData.N, valData.N, choice, onDevices)
	if o.cpuProfile != "" {
		stop, err := startCPUProfile(o.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	start := time.Now()
	if o.maxTime > 0 {
		opt.Stop = func() bool { return time.Since(start) >= o.maxTime }
	}
	if !isTerminal() {
		// No progress bar when piped: one line per epoch, so logs of long runs show progress.
		opt.OnEpoch = func(h training.EpochStats) {
			fmt.Fprintf(stderr, "epoch %d/%d: %s\n", h.Epoch, opt.Epochs, epochLine(h))
		}
	}
	var bar *progressbar.ProgressBar
	res, err := training.Run(backend, task, trainData, valData, opt, func(p training.Progress) {
		if !isTerminal() {
			// The clock at step 1, every 10th step up to 100 and every 100th after, so logs (and the GPU
			// check script, which times runs that share a GPU over their later steps)
			// tell compilation (step 1) from the steady speed (the later steps).
			if n := (p.Epoch-1)*p.StepsPerEpoch + p.Step; n == 1 || (n <= 100 && n%10 == 0) || n%100 == 0 {
				fmt.Fprintf(stderr, "step %d: %.3f s since start\n", n, time.Since(start).Seconds())
			}
		}
		if bar == nil {
			bar = newBar(p.Epochs*p.StepsPerEpoch, "")
		}
		if bar != nil {
			_ = bar.Set((p.Epoch-1)*p.StepsPerEpoch + p.Step)
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %4.0f img/s", p.Epoch, p.Epochs, p.Loss, p.SamplesPerSec))
		}
	})
	if bar != nil {
		_ = bar.Clear()
	}
	stopped := errors.Is(err, training.ErrStopped)
	if err != nil && !stopped {
		return err
	}
	if stopped {
		fmt.Fprintf(stderr, "--max-time %s reached after %d steps: writing the weights trained so far\n", o.maxTime, res.Steps)
	}
	for _, h := range res.History {
		if opt.OnEpoch != nil {
			break // already printed
		}
		fmt.Fprintf(stderr, "epoch %d: %s\n", h.Epoch, epochLine(h))
	}
	elapsed := time.Since(start).Seconds()
	// images_per_second counts the whole run: compilation and validation included.
	metrics := map[string]float64{"train_seconds": elapsed, "steps": float64(res.Steps),
		"images_per_second": float64(res.Steps*opt.Batch) / elapsed}
	if n := len(res.History); n > 0 {
		if o.val > 0 { // without a validation split there is no validation loss (not a loss of 0)
			metrics["val_loss"] = res.History[n-1].ValLoss
		}
		metrics["seconds_per_epoch"] = res.History[n-1].Seconds
	}
	f, err := training.FinalWeights(res, task, opt, metrics)
	if err != nil {
		return err
	}
	f.Manifest.CreatedBy = "mnistzip " + toolVersion()
	if err := weights.WriteFile(o.out, f); err != nil {
		return err
	}
	id, _ := f.ID()
	fmt.Fprintf(stdout, "wrote %s (%s, %d parameters, id %s)\n", o.out, task.Model, f.NumParams(), id)
	return nil
}

// epochLine describes one epoch; the validation loss only where there was a validation split.
func epochLine(h training.EpochStats) string {
	val := ""
	if h.ValLoss != 0 {
		val = fmt.Sprintf(", validation loss %.5f", h.ValLoss)
	}
	return fmt.Sprintf("train loss %.5f%s, %s", h.TrainLoss, val, formatDuration(time.Duration(h.Seconds*float64(time.Second))))
}

// pickDevices resolves --devices: 0 means every device of a CUDA backend (the largest count that
// divides the batch), one otherwise, since XLA's CPU "devices" share the same cores; an explicit
// count must exist and divide the batch.
func pickDevices(flag, batch, have int, backend string) (int, error) {
	if flag == 0 {
		if !strings.Contains(backend, "cuda") {
			return 1, nil
		}
		n := have
		for n > 1 && batch%n != 0 {
			n--
		}
		return max(n, 1), nil
	}
	if flag > have {
		return 0, usagef("--devices %d: backend %s has %d device(s)", flag, backend, have)
	}
	if batch%flag != 0 {
		return 0, usagef("--devices %d: --batch %d does not split evenly across %d devices", flag, batch, flag)
	}
	return flag, nil
}
