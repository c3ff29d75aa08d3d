package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/mz"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "info",
		summary: "Describe IDX files (raw or gzip), weights files and .mz archives.",
		usage:   "FILE...",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			histogram := fs.Bool("histogram", true, "for IDX label files (N ubyte), print the class histogram")
			return func(args []string) error {
				if len(args) == 0 {
					return usagef("info needs at least one FILE")
				}
				var firstErr error
				for _, path := range args {
					if err := describe(path, *histogram); err != nil {
						fmt.Fprintf(stderr, "mnistzip info: %v\n", oneLine(err))
						if firstErr == nil {
							firstErr = err
						}
					}
				}
				if firstErr != nil {
					return errAlreadyReported
				}
				return nil
			}
		},
	})
}

// errAlreadyReported makes the command exit 1 without printing again.
var errAlreadyReported = errors.New("")

// describe prints one line (plus a histogram for label files) about path, detecting its kind by content.
func describe(path string, histogram bool) error {
	head := make([]byte, 16)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	n, _ := f.Read(head)
	f.Close()
	head = head[:n]
	if bytes.HasPrefix(head, mz.Magic[:]) {
		return describeMZ(path)
	}
	if weights.LooksLike(head) {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		w, err := weights.Decode(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		id, _ := w.ID()
		fmt.Fprintf(stdout, "%s: mnistzip weights, model %q, %d tensors, %d parameters, id %s\n", path, w.Manifest.Model, len(w.Tensors), w.NumParams(), id)
		if w.Manifest.Command != "" {
			fmt.Fprintf(stdout, "  trained by: %s (seed %d)\n", w.Manifest.Command, w.Manifest.Seed)
		}
		if epoch, ok := w.Manifest.ConfigInt("checkpoint_epoch"); ok {
			// A checkpoint: where the run stands and the validation losses so far.
			step, _ := w.Manifest.ConfigInt("checkpoint_step")
			epochs, _ := w.Manifest.ConfigInt("epochs")
			fmt.Fprintf(stdout, "  checkpoint: %d of %d epochs done, %d steps into the next\n", epoch, epochs, step)
			for _, h := range training.DecodeHistory(w.Manifest.Config["checkpoint_history"]) {
				fmt.Fprintf(stdout, "  epoch %d: train loss %.5f, validation loss %.5f, %.0f s\n", h.Epoch, h.TrainLoss, h.ValLoss, h.Seconds)
			}
		}
		if h := training.DecodeHistory(w.Manifest.Config["history"]); len(h) > 0 {
			fmt.Fprintf(stdout, "  trained %d epochs, %.0f s per epoch at the end\n", len(h), h[len(h)-1].Seconds)
		}
		if t, ok := w.Manifest.ConfigFloat("temperature"); ok {
			fmt.Fprintf(stdout, "  calibrated: softmax temperature %.4f\n", t)
		}
		for _, k := range sortedKeys(w.Manifest.Metrics) {
			fmt.Fprintf(stdout, "  %s = %.6g\n", k, w.Manifest.Metrics[k])
		}
		return nil
	}
	h, data, err := idx.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "%s: %s\n", path, h)
	if histogram && h.Type == idx.Ubyte && h.Rank() == 1 {
		hist := mnist.Histogram(data)
		for class, count := range hist {
			fmt.Fprintf(stdout, "  class %d: %6d  %5.2f%%\n", class, count, 100*float64(count)/float64(max(1, len(data))))
		}
	}
	return nil
}

// describeMZ prints a .mz file's mode, model, sizes and chunks (checking the chunks' CRCs).
func describeMZ(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, chunks, size, err := mz.Inspect(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	mode := "lossless"
	if h.Lossy {
		mode = fmt.Sprintf("lossy (quality %d)", h.Quality)
	}
	original := int64(h.IDX.HeaderSize()) + h.IDX.DataSize()
	unit := "data byte"
	if h.Images() {
		unit = "pixel"
	}
	fmt.Fprintf(stdout, "%s: mnistzip .mz v%d, %s, of %s: %d bytes of %d (%.2f%%, %.3f bits per %s)\n", path, h.Version, mode, h.IDX,
		size, original, 100*float64(size)/float64(original), 8*float64(size)/float64(max(1, h.IDX.DataSize())), unit)
	if h.ModelID != "" {
		fmt.Fprintf(stdout, "  model: %s\n", h.ModelID)
	}
	for i, c := range chunks {
		fmt.Fprintf(stdout, "  chunk %d: %d items, %s, %d bytes\n", i+1, c.Items, c.Kind, c.Bytes)
	}
	return nil
}
