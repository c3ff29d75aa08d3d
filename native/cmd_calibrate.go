package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// calibrateOptions are calibrate's flags, checked.
type calibrateOptions struct {
	model modelFlags
	plots string
}

func init() {
	register(&command{
		name:    "calibrate",
		summary: "Fit a classifier's softmax temperature on the validation split and store it in the weights.",
		usage:   "--weights W [--plots DIR]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o calibrateOptions
			o.model.add(fs, "classifier weights (rewritten in place with the temperature)")
			fs.StringVar(&o.plots, "plots", "", "folder for reliability diagrams (before/after, on the test set)")
			return func(args []string) (func() error, error) {
				if err := o.model.check(args); err != nil {
					return nil, err
				}
				return func() error { return runCalibrate(o) }, nil
			}
		},
	})
}

func runCalibrate(o calibrateOptions) error {
	f, backend, err := o.model.load()
	if err != nil {
		return err
	}
	trained, err := loadTrainedClassifier(backend, f)
	if err != nil {
		return err
	}
	c := trained.Classifier
	// The validation split the training held out: never the test set.
	rec, _ := f.Manifest.TrainingRecord()
	valSize, limit := rec.ValSize, rec.Limit
	if valSize <= 0 {
		return fmt.Errorf("%s records no validation split (val_size): retrain with --val", o.model.weights)
	}
	trainSet, err := mnist.Load(o.model.data, mnist.Train)
	if err != nil {
		return err
	}
	if limit > 0 && limit+valSize < trainSet.N {
		trainSet = trainSet.Head(limit + valSize)
	}
	if valSize >= trainSet.N {
		return fmt.Errorf("%s records a validation split of %d digits; %s holds %d training digits", o.model.weights, valSize, o.model.data, trainSet.N)
	}
	_, val := training.SplitValidation(trainSet, valSize)
	valLogits, err := c.Logits(val, 500)
	if err != nil {
		return err
	}
	t, err := calibrate.FitTemperature(valLogits)
	if err != nil {
		return err
	}
	testSet, err := mnist.Load(o.model.data, mnist.Test)
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
	if o.plots != "" {
		if err := os.MkdirAll(o.plots, 0o755); err != nil {
			return err
		}
		for _, r := range []struct {
			name   string
			report calibrate.Report
		}{{"before", before}, {"after", after}} {
			path := filepath.Join(o.plots, fmt.Sprintf("%s-reliability-%s.png", trained.Label, r.name))
			title := fmt.Sprintf("%s, T = %.3f: ECE %.2f%%", c.Model, r.report.Temperature, 100*r.report.ECE)
			if err := reliabilityDiagram(path, title, r.report); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
	}
	f.Manifest.Temperature = t
	f.Manifest.Metrics["test_ece_uncalibrated"], f.Manifest.Metrics["test_ece"] = before.ECE, after.ECE
	f.Manifest.Metrics["test_nll_uncalibrated"], f.Manifest.Metrics["test_nll"] = before.NLL, after.NLL
	f.Manifest.Metrics["test_accuracy"] = after.Accuracy
	return weights.WriteFile(o.model.weights, f)
}
