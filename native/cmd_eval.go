package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// evalOptions are eval's flags, checked.
type evalOptions struct {
	model          modelFlags
	asJSON, record bool
	limit, batch   int
	predictions    string
}

func init() {
	register(&command{
		name:    "eval",
		summary: "Evaluate trained weights on the MNIST test set: a table, or JSON with --json.",
		usage:   "--weights W [--json] [--limit N]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o evalOptions
			o.model.add(fs, "weights file")
			fs.BoolVar(&o.asJSON, "json", false, "print JSON instead of a table")
			fs.BoolVar(&o.record, "record", false, "store the test metrics in the weights' manifest (rewrites the file; its id changes); needs the whole test set")
			fs.IntVar(&o.limit, "limit", 0, fmt.Sprintf("evaluate on the first N test digits only (0: all %d)", mnist.TestSize))
			fs.IntVar(&o.batch, "batch", 500, "evaluation batch size")
			fs.StringVar(&o.predictions, "predictions", "", "classifiers: also write each digit's predicted class and margin to this JSON file (to compare backends)")
			return func(args []string) (func() error, error) {
				err := firstError(
					checkInt("limit", o.limit, 1, mnist.TestSize, "all"),
					checkInt("batch", o.batch, 1, mnist.TestSize, ""),
					o.model.check(args))
				if err == nil && o.record && o.limit != 0 {
					// Metrics of a subset stored as the test metrics would be wrong data under the right name.
					err = usagef("--record stores test-set metrics: it cannot be combined with --limit %d", o.limit)
				}
				if err == nil && o.predictions != "" {
					err = checkOutputPath(o.predictions, true)
				}
				if err != nil {
					return nil, err
				}
				return func() error { return runEval(o) }, nil
			}
		},
	})
}

func runEval(o evalOptions) error {
	f, backend, choice, err := o.model.loadChoice()
	if err != nil {
		return err
	}
	set, err := mnist.Load(o.model.data, mnist.Test)
	if err != nil {
		return err
	}
	n := set.N
	if o.limit > 0 && o.limit < n {
		n = o.limit
	}
	data := training.FromSet(set, 0, n)
	trained, err := zoo.Load(backend, f)
	if err != nil {
		return err
	}
	batch := min(o.batch, n)
	if trained.Model.Family == zoo.Classifier {
		return evalClassifier(backend, choice.Backend, f, data, batch, o)
	}
	ae := trained.Autoencoder
	m, err := evaluate.EvalAutoencoder(ae, data, batch)
	if err != nil {
		return err
	}
	if o.record {
		for k, v := range map[string]float64{"test_bce_per_pixel": m.BCE, "test_mse_per_pixel": m.MSE, "test_psnr_db": m.PSNR,
			"test_neg_elbo_nats": m.NELBO, "test_noisy_psnr_db": m.NoisyPSNR, "test_denoised_psnr_db": m.DenoisedPSNR,
			"test_mean_abs_code": m.MeanAbsCode, "test_near_zero_fraction": m.NearZeroFrac} {
			if v != 0 || k == "test_near_zero_fraction" {
				f.Manifest.Metrics[k] = v
			}
		}
		if err := weights.WriteFile(o.model.weights, f); err != nil {
			return err
		}
	}
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Model   string             `json:"model"`
			Weights string             `json:"weights"`
			Metrics evaluate.AEMetrics `json:"metrics"`
		}{f.Manifest.Model, o.model.weights, m})
	}
	fmt.Fprintf(stdout, "%s (%s) on %d test digits\n", o.model.weights, f.Manifest.Model, m.N)
	row := func(name string, v float64, unit string) { fmt.Fprintf(stdout, "  %-28s %10.4f %s\n", name, v, unit) }
	row("BCE per pixel", m.BCE, "nats")
	row("MSE per pixel", m.MSE, "")
	row("PSNR", m.PSNR, "dB")
	if m.NELBO != 0 {
		row("negative ELBO", m.NELBO, "nats/image")
	}
	if m.NoisyPSNR != 0 {
		row("PSNR noisy input", m.NoisyPSNR, "dB")
		row("PSNR denoised", m.DenoisedPSNR, "dB")
		row("denoising gain", m.DenoisedPSNR-m.NoisyPSNR, "dB")
	}
	row("mean |code|", m.MeanAbsCode, "")
	row("code values with |v|<0.01", 100*m.NearZeroFrac, "%")
	return nil
}
