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
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "info",
		summary: "Describe IDX files (raw or gzip), weights files and .mz archives.",
		usage:   "FILE...",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			histogram := fs.Bool("histogram", true, "for IDX label files (N ubyte), print the class histogram")
			return func(args []string) (func() error, error) {
				if len(args) == 0 {
					return nil, usagef("info needs at least one FILE")
				}
				return func() error { return runInfo(args, *histogram) }, nil
			}
		},
	})
}

// runInfo describes each file, reporting each failure on its own line (exit 1 if any).
func runInfo(paths []string, histogram bool) error {
	var firstErr error
	for _, path := range paths {
		if err := describe(path, histogram); err != nil {
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
			return fmt.Errorf("%s: damaged weights file: %w", path, err)
		}
		id, _ := w.ID()
		fmt.Fprintf(stdout, "%s: mnistzip weights, model %q, %d tensors, %d parameters, id %s\n", path, w.Manifest.Model, len(w.Tensors), w.NumParams(), id)
		if w.Manifest.Command != "" {
			fmt.Fprintf(stdout, "  trained by: %s (seed %d)\n", w.Manifest.Command, w.Manifest.Seed)
		}
		rec, _ := w.Manifest.TrainingRecord()
		for in := rec.Init; in != nil; in = in.Init {
			fmt.Fprintf(stdout, "  started from weights %s (%d epochs, by: %s)\n", in.ID, in.Epochs, in.Command)
		}
		if c := rec.Checkpoint; c != nil {
			// A checkpoint: where the run stands and the validation losses so far.
			fmt.Fprintf(stdout, "  checkpoint: %d of %d epochs done, %d steps into the next\n", c.Epoch, rec.Epochs, c.Step)
			for _, h := range rec.History {
				fmt.Fprintf(stdout, "  epoch %d: train loss %.5f, validation loss %.5f, %.0f s\n", h.Epoch, h.TrainLoss, h.ValLoss, h.Seconds)
			}
		} else if h := rec.History; len(h) > 0 {
			fmt.Fprintf(stdout, "  trained %d epochs, %.0f s per epoch at the end\n", len(h), h[len(h)-1].Seconds)
		}
		if t, ok := w.Manifest.SoftmaxTemperature(); ok {
			fmt.Fprintf(stdout, "  calibrated: softmax temperature %.4f\n", t)
		}
		for _, k := range sortedKeys(w.Manifest.Metrics) {
			fmt.Fprintf(stdout, "  %s = %.6g\n", k, w.Manifest.Metrics[k])
		}
		return nil
	}
	h, data, err := readIDX(path)
	if errors.Is(err, idx.ErrBadMagic) {
		return fmt.Errorf("%s: neither a valid weights file nor an IDX or .mz file (%v)", path, err)
	}
	if err != nil {
		return fmt.Errorf("%s: damaged IDX file: %w", path, err)
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

// readIDX reads an IDX file (raw or gzip) with errors that do not repeat its name.
func readIDX(path string) (*idx.Header, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return idx.ReadAll(f)
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
