package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// eceBins is the number of equal-width confidence bins of every ECE this tool reports (Guo et al.).
const eceBins = 15

func evalClassifier(backend backends.Backend, backendName string, f *weights.File, data *training.Data, batch int, o evalOptions) error {
	path, asJSON, record := o.model.weights, o.asJSON, o.record
	c, err := loadClassifier(backend, f)
	if err != nil {
		return err
	}
	logits, err := c.Logits(data, batch)
	if err != nil {
		return err
	}
	if o.predictions != "" {
		if err := writePredictions(o.predictions, f, backendName, logits); err != nil {
			return err
		}
	}
	uncalibrated, err := calibrate.Measure(logits, 1, eceBins)
	if err != nil {
		return err
	}
	calibrated, err := calibrate.Measure(logits, c.Temperature, eceBins)
	if err != nil {
		return err
	}
	confusion := evaluate.Confusion(logits)
	if record {
		f.Manifest.Metrics["test_accuracy"] = uncalibrated.Accuracy
		f.Manifest.Metrics["test_nll_uncalibrated"], f.Manifest.Metrics["test_ece_uncalibrated"] = uncalibrated.NLL, uncalibrated.ECE
		f.Manifest.Metrics["test_nll"], f.Manifest.Metrics["test_ece"] = calibrated.NLL, calibrated.ECE
		if err := weights.WriteFile(path, f); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Model        string           `json:"model"`
			Weights      string           `json:"weights"`
			N            int              `json:"n"`
			Uncalibrated calibrate.Report `json:"uncalibrated"`
			Calibrated   calibrate.Report `json:"calibrated"`
			Confusion    [10][10]int      `json:"confusion"`
		}{c.Model, path, data.N, uncalibrated, calibrated, confusion})
	}
	fmt.Fprintf(stdout, "%s (%s) on %d test digits: accuracy %.2f%% (%d errors)\n", path, c.Model, data.N,
		100*uncalibrated.Accuracy, data.N-int(uncalibrated.Accuracy*float64(data.N)+0.5))
	fmt.Fprintf(stdout, "  %-22s %10s %10s %10s\n", "", "NLL", "ECE (15)", "MCE")
	fmt.Fprintf(stdout, "  %-22s %10.4f %9.2f%% %9.2f%%\n", "T = 1", uncalibrated.NLL, 100*uncalibrated.ECE, 100*uncalibrated.MCE)
	_, calibratedAtAll := f.Manifest.SoftmaxTemperature()
	switch {
	case c.Temperature != 1:
		fmt.Fprintf(stdout, "  %-22s %10.4f %9.2f%% %9.2f%%\n", fmt.Sprintf("T = %.3f (calibrated)", c.Temperature), calibrated.NLL, 100*calibrated.ECE, 100*calibrated.MCE)
	case calibratedAtAll:
		fmt.Fprintf(stdout, "  calibrated: T = 1 kept (a fitted T gained too little on the validation split, mnistzip calibrate)\n")
	default:
		fmt.Fprintf(stdout, "  not calibrated yet: run 'mnistzip calibrate --weights %s'\n", path)
	}
	fmt.Fprintf(stdout, "  confusion matrix (rows: true digit, columns: predicted)\n      ")
	for p := range 10 {
		fmt.Fprintf(stdout, "%6d", p)
	}
	fmt.Fprintln(stdout)
	for y := range 10 {
		fmt.Fprintf(stdout, "  %2d: ", y)
		for p := range 10 {
			fmt.Fprintf(stdout, "%6d", confusion[y][p])
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// writePredictions writes each digit's predicted class and margin (evaluate.PredictionRecord).
func writePredictions(path string, f *weights.File, backend string, logits calibrate.Logits) error {
	id, err := f.ID()
	if err != nil {
		return err
	}
	data, err := json.Marshal(evaluate.NewPredictionRecord(f.Manifest.Model, id, backend, logits))
	if err != nil {
		return err
	}
	return outputError(path, atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	}, atomicfile.Overwrite(true)))
}
