package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "eval",
		summary: "Evaluate trained weights on the MNIST test set: a table, or JSON with --json.",
		usage:   "--weights W [--json] [--limit N]",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			mf := addModelFlags(fs, "weights file")
			weightsPath, dataDir := mf.weights, mf.data
			asJSON := fs.Bool("json", false, "print JSON instead of a table")
			record := fs.Bool("record", false, "store the test metrics in the weights' manifest (rewrites the file; its id changes)")
			limit := fs.Int("limit", 0, "evaluate on the first N test digits only (0: all 10,000)")
			batch := fs.Int("batch", 500, "evaluation batch size")
			return func(args []string) error {
				f, backend, err := mf.load(args)
				if err != nil {
					return err
				}
				set, err := mnist.Load(*dataDir, mnist.Test)
				if err != nil {
					return err
				}
				n := set.N
				if *limit > 0 && *limit < n {
					n = *limit
				}
				data := training.FromSet(set, 0, n)
				if training.IsClassifier(f.Manifest.Model) {
					return evalClassifier(backend, f, *weightsPath, data, min(*batch, n), *asJSON, *record)
				}
				ae, err := evaluate.LoadAutoencoder(backend, f)
				if err != nil {
					return err
				}
				m, err := evaluate.EvalAutoencoder(ae, data, min(*batch, n))
				if err != nil {
					return err
				}
				if *record {
					if n != set.N {
						return usagef("--record needs the whole test set (no --limit)")
					}
					for k, v := range map[string]float64{"test_bce_per_pixel": m.BCE, "test_mse_per_pixel": m.MSE, "test_psnr_db": m.PSNR,
						"test_neg_elbo_nats": m.NELBO, "test_noisy_psnr_db": m.NoisyPSNR, "test_denoised_psnr_db": m.DenoisedPSNR,
						"test_mean_abs_code": m.MeanAbsCode, "test_near_zero_fraction": m.NearZeroFrac} {
						if v != 0 || k == "test_near_zero_fraction" {
							f.Manifest.Metrics[k] = v
						}
					}
					if err := weights.WriteFile(*weightsPath, f); err != nil {
						return err
					}
				}
				if *asJSON {
					enc := json.NewEncoder(stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(struct {
						Model   string             `json:"model"`
						Weights string             `json:"weights"`
						Metrics evaluate.AEMetrics `json:"metrics"`
					}{f.Manifest.Model, *weightsPath, m})
				}
				fmt.Fprintf(stdout, "%s (%s) on %d test digits\n", *weightsPath, f.Manifest.Model, m.N)
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
		},
	})
}
