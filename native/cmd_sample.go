package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// maxSampleRow bounds --n: a row of 100 digits is a 5,800-pixel-wide picture already.
const maxSampleRow = 100

// sampleOptions are sample's flags, checked.
type sampleOptions struct {
	model modelFlags
	out   string
	n     int
}

func init() {
	register(&command{
		name:    "sample",
		summary: "Write PNG pictures of a trained model: reconstructions, denoising, the VAE's latent space, CapsNet capsule perturbations, loss curves.",
		usage:   "--weights W -o DIR",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o sampleOptions
			o.model.add(fs, "weights file")
			fs.StringVarP(&o.out, "output", "o", "", "folder for the PNG files (created)")
			fs.IntVar(&o.n, "n", 16, fmt.Sprintf("digits per row, 1…%d", maxSampleRow))
			return func(args []string) (func() error, error) {
				err := firstError(checkInt("n", o.n, 1, maxSampleRow, ""), o.model.check(args))
				if err == nil && o.out == "" {
					err = usagef("-o DIR is required")
				}
				if err != nil {
					return nil, err
				}
				return func() error { return runSample(o) }, nil
			}
		},
	})
}

func runSample(o sampleOptions) (err error) {
	f, backend, err := o.model.load()
	if err != nil {
		return err
	}
	set, err := mnist.Load(o.model.data, mnist.Test)
	if err != nil {
		return err
	}
	trained, err := zoo.Load(backend, f)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(o.out)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	written, err := drawPictures(trained, set, min(o.n, set.N), o.out)
	for _, w := range written {
		fmt.Fprintf(stdout, "wrote %s\n", w)
	}
	if err != nil && len(written) == 0 && statErr != nil {
		_ = os.Remove(o.out) // made for nothing: no empty folder left behind
	}
	return err
}

// drawPictures writes every picture the registry lists for the trained model, then its loss curves.
func drawPictures(t *zoo.Trained, set *mnist.Set, n int, dir string) (written []string, err error) {
	for _, p := range t.Model.Pictures {
		draw, ok := pictureMakers[p]
		if !ok {
			return written, fmt.Errorf("no drawing for picture %q of %s", p, t.Model.Name)
		}
		w, err := draw(t, set, n, dir)
		written = append(written, w...)
		if err != nil {
			return written, err
		}
	}
	return historyPicture(t, dir, written)
}

// historyPicture adds the training and validation loss curves of t's run, if it recorded them.
func historyPicture(t *zoo.Trained, dir string, written []string) ([]string, error) {
	rec, _ := t.File.Manifest.TrainingRecord()
	history := rec.History
	if len(history) == 0 {
		return written, nil
	}
	m := t.File.Manifest
	path := filepath.Join(dir, t.Label+"-loss.png")
	if err := lossCurves(path, m.Model+" training", history); err != nil {
		return written, err
	}
	return append(written, path), nil
}
