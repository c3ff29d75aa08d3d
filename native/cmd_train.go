package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "train",
		summary: "Train a model on MNIST (validation split held out from the training set) and write its weights.",
		usage:   "--model ae|dae|sparse|vae|subpixel|dense|cnn|densenet|capsnet [flags] -o WEIGHTS",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			model := fs.String("model", "", "model: ae, dae, sparse, vae, subpixel, dense (autoencoders); cnn, densenet, capsnet (classifiers)")
			size := fs.String("size", "small", "densenet, capsnet: small (trains on 2 CPU cores) or paper")
			growth := fs.Int("growth", 0, "densenet: growth rate k (default: the size's, 12)")
			blocks := fs.Int("blocks", 0, "densenet: dense blocks (default: the size's, 3)")
			denseLayers := fs.Int("dense-layers", 0, "densenet: BN-ReLU-conv layers per block (default: the size's)")
			dropout := fs.Float64("dropout", 0, "densenet: dropout after each 3×3 convolution")
			epochs := fs.Int("epochs", 10, "epochs over the training split")
			batch := fs.Int("batch", 128, "batch size")
			lr := fs.Float64("lr", 1e-3, "Adam learning rate")
			schedule := fs.String("lr-schedule", "constant", "learning-rate schedule: constant, or cosine (from --lr down to --lr/100 over the run)")
			seed := fs.Int64("seed", 1, "seed for initialization, shuffling and noise")
			limit := fs.Int("limit", 0, "train on the first N training digits only (0: all)")
			val := fs.Int("val", 5000, "digits held out from the end of the training set for validation")
			code := fs.Int("code", 0, "code size (default 32; 2 for the VAE)")
			noise := fs.String("noise", "mask", "dae: corruption, mask or gaussian")
			noiseLevel := fs.Float64("noise-level", 0, "dae: mask fraction (default 0.3) or Gaussian σ (default 0.5)")
			l1 := fs.Float64("l1", 0, "sparse: L1 weight on the code activation (default 1e-3)")
			quantNoise := fs.Float64("quant-noise", 0, "autoencoders: train with uniform noise of this width on the code (robust to the codec's quantization step)")
			channels := fs.IntSlice("channels", nil, "autoencoders: the two encoder convolution widths (default 16,32)")
			spatial := fs.Bool("spatial-code", false, "ae, dae, sparse, subpixel: the code is the encoder's 7×7 feature map, no dense bottleneck (--code is then 49 × the second width)")
			hidden := fs.Int("hidden", 0, "ae, dae, sparse, vae, subpixel: a dense ReLU layer of this width before the code, mirrored in the decoder (0: none)")
			bf := addBackendFlags(fs)
			devices := fs.Int("devices", 0, "data parallelism: shard each batch across N devices of the XLA backend (0: every GPU with xla:cuda, one device otherwise)")
			dataDir := fs.String("data", mnist.DefaultDir, "MNIST data folder")
			out := fs.StringP("output", "o", "", "weights file to write")
			force := fs.BoolP("force", "f", false, "overwrite the output file")
			ckpt := fs.String("checkpoint", "", "checkpoint file (default: OUTPUT.ckpt)")
			every := fs.Duration("checkpoint-every", 2*time.Minute, "checkpoint interval")
			resume := fs.Bool("resume", false, "continue from the checkpoint")
			maxSteps := fs.Int("max-steps", 0, "stop after N steps (smoke runs)")
			maxTime := fs.Duration("max-time", 0, "stop after this long (at the end of a step) and write the weights trained so far")
			cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to this file")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("unexpected argument %q", args[0])
				}
				if *out == "" {
					return usagef("-o WEIGHTS is required")
				}
				if _, err := os.Stat(*out); err == nil && !*force && !*resume {
					return fmt.Errorf("%s exists (use -f to overwrite)", *out)
				}
				var task *training.Task
				var err error
				if *model == "" {
					return usagef("--model is required: ae, dae, sparse, vae, subpixel, dense, cnn, densenet or capsnet")
				}
				if training.IsClassifier(*model) {
					var spec training.ClassifierSpec
					if spec, err = training.NewClassifierSpec(*model, *size); err == nil {
						for _, o := range []struct {
							flag string
							v    int
							dst  *int
						}{{"growth", *growth, &spec.DenseNet.Growth}, {"blocks", *blocks, &spec.DenseNet.Blocks}, {"dense-layers", *denseLayers, &spec.DenseNet.LayersPerBlock}} {
							if o.v != 0 && *model != "densenet" {
								return usagef("--%s is a densenet flag", o.flag)
							}
							if o.v != 0 {
								*o.dst = o.v
							}
						}
						if *dropout != 0 && *model != "densenet" {
							return usagef("--dropout is a densenet flag")
						}
						if *dropout != 0 {
							spec.DenseNet.Dropout = *dropout
						}
						task, err = training.ClassifierTask(spec)
					}
				} else {
					cfg := models.DefaultAEConfig(models.AEKind(*model))
					if *code > 0 {
						cfg.CodeSize = *code
					}
					if cfg.Kind == models.DAE {
						cfg.Noise = *noise
						if *noiseLevel > 0 {
							cfg.NoiseLevel = *noiseLevel
						} else if *noise == "gaussian" {
							cfg.NoiseLevel = 0.5
						}
					}
					if *l1 > 0 {
						cfg.L1 = *l1
					}
					cfg.QuantNoise = *quantNoise
					if len(*channels) > 0 {
						if len(*channels) != 2 {
							return usagef("--channels takes two widths, like 16,32")
						}
						cfg.Channels = [2]int{(*channels)[0], (*channels)[1]}
					}
					if *spatial {
						cfg.SpatialCode, cfg.CodeSize = true, 7*7*cfg.Channels[1]
						if *code > 0 && *code != cfg.CodeSize {
							return usagef("--spatial-code makes the code 7×7×%d = %d values: drop --code %d", cfg.Channels[1], cfg.CodeSize, *code)
						}
					}
					cfg.Hidden = *hidden
					task, err = training.AETask(cfg)
				}
				if err != nil {
					return usagef("%v", err)
				}
				set, err := mnist.Load(*dataDir, mnist.Train)
				if err != nil {
					return err
				}
				if *limit > 0 && *limit+*val < set.N {
					set = set.Head(*limit + *val)
				} else {
					*limit = 0
				}
				trainData, valData := training.SplitValidation(set, *val)
				if *devices < 0 {
					return usagef("--devices %d: want 0 (automatic) or a device count ≥ 1", *devices)
				}
				backend, choice, err := bf.open()
				if err != nil {
					return err
				}
				nDevices, err := pickDevices(*devices, *batch, backend.NumDevices(), choice.Backend)
				if err != nil {
					return err
				}
				if *ckpt == "" {
					*ckpt = *out + ".ckpt"
				}
				opt := training.Options{Epochs: *epochs, Batch: *batch, LR: *lr, Schedule: *schedule, Seed: *seed, Checkpoint: *ckpt,
					CheckpointEvery: *every, Resume: *resume, MaxSteps: *maxSteps, ValSize: *val, Limit: *limit, Devices: nDevices,
					Command: "mnistzip " + strings.Join(os.Args[1:], " "), Backend: choice.Backend}
				onDevices := ""
				if nDevices > 1 {
					onDevices = fmt.Sprintf(", batch sharded across %d devices", nDevices)
				}
				fmt.Fprintf(stderr, "training %s on %d digits (validation %d), backend %s%s\n", task.Model, trainData.N, valData.N, choice, onDevices)
				if *cpuProfile != "" {
					stop, err := startCPUProfile(*cpuProfile)
					if err != nil {
						return err
					}
					defer stop()
				}
				start := time.Now()
				if *maxTime > 0 {
					opt.Stop = func() bool { return time.Since(start) >= *maxTime }
				}
				if !isTerminal() {
					// No progress bar when piped: one line per epoch, so logs of long runs show progress.
					opt.OnEpoch = func(h training.EpochStats) {
						fmt.Fprintf(stderr, "epoch %d/%d: train loss %.5f, validation loss %.5f, %s\n", h.Epoch, opt.Epochs, h.TrainLoss, h.ValLoss, formatDuration(time.Duration(h.Seconds*float64(time.Second))))
					}
				}
				var bar *progressbar.ProgressBar
				res, err := training.Run(backend, task, trainData, valData, opt, func(p training.Progress) {
					if !isTerminal() {
						// The clock at step 1 and every 10th step up to 100, so logs (and the GPU check script)
						// tell compilation (step 1) from the steady speed (the later steps).
						if n := (p.Epoch-1)*p.StepsPerEpoch + p.Step; n == 1 || (n <= 100 && n%10 == 0) {
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
					fmt.Fprintf(stderr, "--max-time %s reached after %d steps: writing the weights trained so far\n", *maxTime, res.Steps)
				}
				for _, h := range res.History {
					if opt.OnEpoch != nil {
						break // already printed
					}
					fmt.Fprintf(stderr, "epoch %d: train loss %.5f, validation loss %.5f, %s\n", h.Epoch, h.TrainLoss, h.ValLoss, formatDuration(time.Duration(h.Seconds*float64(time.Second))))
				}
				elapsed := time.Since(start).Seconds()
				// images_per_second counts the whole run: compilation and validation included.
				metrics := map[string]float64{"train_seconds": elapsed, "steps": float64(res.Steps),
					"images_per_second": float64(res.Steps*opt.Batch) / elapsed}
				if n := len(res.History); n > 0 {
					metrics["val_loss"] = res.History[n-1].ValLoss
					metrics["seconds_per_epoch"] = res.History[n-1].Seconds
				}
				f, err := training.FinalWeights(res, task, opt, metrics)
				if err != nil {
					return err
				}
				f.Manifest.CreatedBy = "mnistzip " + toolVersion()
				if err := weights.WriteFile(*out, f); err != nil {
					return err
				}
				id, _ := f.ID()
				fmt.Fprintf(stdout, "wrote %s (%s, %d parameters, id %s)\n", *out, task.Model, f.NumParams(), id)
				return nil
			}
		},
	})
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
