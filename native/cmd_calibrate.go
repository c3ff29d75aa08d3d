package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "calibrate",
		summary: "Fit a classifier's softmax temperature on the validation split and store it in the weights.",
		usage:   "--weights W [--plots DIR]",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			mf := addModelFlags(fs, "classifier weights (rewritten in place with the temperature)")
			plots := fs.String("plots", "", "folder for reliability diagrams (before/after, on the test set)")
			weightsPath, dataDir := mf.weights, mf.data
			return func(args []string) error {
				f, backend, err := mf.load(args)
				if err != nil {
					return err
				}
				c, err := evaluate.LoadClassifier(backend, f)
				if err != nil {
					return err
				}
				// The validation split the training held out: never the test set.
				valSize, ok := f.Manifest.ConfigInt("val_size")
				if !ok || valSize <= 0 {
					return fmt.Errorf("%s records no validation split (val_size): retrain with --val", *weightsPath)
				}
				trainSet, err := mnist.Load(*dataDir, mnist.Train)
				if err != nil {
					return err
				}
				if limit, _ := f.Manifest.ConfigInt("limit"); limit > 0 && int(limit+valSize) < trainSet.N {
					trainSet = trainSet.Head(int(limit + valSize))
				}
				_, val := training.SplitValidation(trainSet, int(valSize))
				valLogits, err := c.Logits(val, 500)
				if err != nil {
					return err
				}
				t, err := calibrate.FitTemperature(valLogits)
				if err != nil {
					return err
				}
				testSet, err := mnist.Load(*dataDir, mnist.Test)
				if err != nil {
					return err
				}
				testLogits, err := c.Logits(training.FromSet(testSet, 0, testSet.N), 500)
				if err != nil {
					return err
				}
				before, _ := calibrate.Measure(testLogits, 1, eceBins)
				after, _ := calibrate.Measure(testLogits, t, eceBins)
				fmt.Fprintf(stdout, "T = %.4f fitted on %d validation digits\n", t, val.N)
				fmt.Fprintf(stdout, "test set:       accuracy    NLL      ECE      MCE\n")
				fmt.Fprintf(stdout, "  before (T=1)  %6.2f%%  %7.4f  %6.2f%%  %6.2f%%\n", 100*before.Accuracy, before.NLL, 100*before.ECE, 100*before.MCE)
				fmt.Fprintf(stdout, "  after         %6.2f%%  %7.4f  %6.2f%%  %6.2f%%\n", 100*after.Accuracy, after.NLL, 100*after.ECE, 100*after.MCE)
				if *plots != "" {
					if err := os.MkdirAll(*plots, 0o755); err != nil {
						return err
					}
					for _, r := range []struct {
						name   string
						report calibrate.Report
					}{{"before", before}, {"after", after}} {
						path := filepath.Join(*plots, fmt.Sprintf("%s-reliability-%s.png", pictureName(c.Weights.Manifest), r.name))
						title := fmt.Sprintf("%s, T = %.3f: ECE %.2f%%", c.Model, r.report.Temperature, 100*r.report.ECE)
						if err := reliabilityDiagram(path, title, r.report); err != nil {
							return err
						}
						fmt.Fprintf(stdout, "wrote %s\n", path)
					}
				}
				f.Manifest.Config[evaluate.TemperatureKey] = t
				f.Manifest.Metrics["test_ece_uncalibrated"], f.Manifest.Metrics["test_ece"] = before.ECE, after.ECE
				f.Manifest.Metrics["test_nll_uncalibrated"], f.Manifest.Metrics["test_nll"] = before.NLL, after.NLL
				f.Manifest.Metrics["test_accuracy"] = after.Accuracy
				return weights.WriteFile(*weightsPath, f)
			}
		},
	})
}
