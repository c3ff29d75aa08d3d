package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func init() {
	register(&command{
		name:    "sample",
		summary: "Write PNG pictures of a trained model: reconstructions, denoising, the VAE's latent space, CapsNet capsule perturbations, loss curves.",
		usage:   "--weights W -o DIR",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			mf := addModelFlags(fs, "weights file")
			dataDir := mf.data
			out := fs.StringP("output", "o", "", "folder for the PNG files (created)")
			n := fs.Int("n", 16, "digits per row")
			return func(args []string) error {
				if *out == "" {
					return usagef("-o DIR is required")
				}
				f, backend, err := mf.load(args)
				if err != nil {
					return err
				}
				set, err := mnist.Load(*dataDir, mnist.Test)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(*out, 0o755); err != nil {
					return err
				}
				var written []string
				switch f.Manifest.Model {
				case "capsnet":
					var c *evaluate.CapsNet
					if c, err = evaluate.LoadCapsNet(backend, f); err == nil {
						written, err = capsNetPictures(c, pictureName(f.Manifest), set, *n, *out)
					}
				case "cnn", "densenet":
					written, err = historyPicture(f.Manifest, *out, nil)
				default:
					var ae *evaluate.Autoencoder
					if ae, err = evaluate.LoadAutoencoder(backend, f); err == nil {
						written, err = autoencoderPictures(ae, set, *n, *out)
					}
				}
				for _, w := range written {
					fmt.Fprintf(stdout, "wrote %s\n", w)
				}
				return err
			}
		},
	})
}

func autoencoderPictures(ae *evaluate.Autoencoder, set *mnist.Set, n int, dir string) (written []string, err error) {
	name := ae.Weights.Manifest.Model
	test := training.FromSet(set, 0, set.N)
	o, err := ae.Run(test.Images[:n*784], n)
	if err != nil {
		return nil, err
	}
	split := func(flat []float32) [][]float32 {
		rows := make([][]float32, n)
		for i := range rows {
			rows[i] = flat[i*784 : (i+1)*784]
		}
		return rows
	}
	save := func(file string, rows [][][]float32) error {
		path := filepath.Join(dir, file)
		if err := writePNG(path, digitRows(rows, 2)); err != nil {
			return err
		}
		written = append(written, path)
		return nil
	}
	if err := save(name+"-reconstructions.png", [][][]float32{split(test.Images[:n*784]), split(o.Recon)}); err != nil {
		return written, err
	}
	if ae.Config.Kind == models.DAE {
		if err := save(name+"-denoising.png", [][][]float32{split(o.Noisy), split(o.Denoised), split(test.Images[:n*784])}); err != nil {
			return written, err
		}
	}
	if ae.Config.Kind == models.VAE && ae.Config.CodeSize == 2 {
		// 20×20 decoded grid over the latent plane at the standard normal's quantiles 5%…95%.
		const g = 20
		codes := make([]float32, 0, g*g*2)
		for r := range g {
			for c := range g {
				q := func(i int) float32 { p := 0.05 + 0.9*float64(i)/(g-1); return float32(math.Sqrt2 * math.Erfinv(2*p-1)) }
				codes = append(codes, q(c), q(g-1-r))
			}
		}
		decoded, err := ae.Decode(codes, g*g)
		if err != nil {
			return written, err
		}
		rows := make([][][]float32, g)
		for r := range rows {
			for c := range g {
				rows[r] = append(rows[r], decoded[(r*g+c)*784:(r*g+c+1)*784])
			}
		}
		path := filepath.Join(dir, name+"-latent-grid.png")
		if err := writePNG(path, digitRows(rows, 1)); err != nil {
			return written, err
		}
		written = append(written, path)
		// Latent means of the whole test set.
		means := make([]float32, 0, test.N*2)
		for start := 0; start < test.N; start += 1000 {
			o, err := ae.Run(test.Images[start*784:(start+1000)*784], 1000)
			if err != nil {
				return written, err
			}
			means = append(means, o.Code...)
		}
		path = filepath.Join(dir, name+"-latent-scatter.png")
		if err := latentScatter(path, means, test.Labels); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return historyPicture(ae.Weights.Manifest, dir, written)
}

// historyPicture adds the training and validation loss curves of m's run, if it recorded them.
func historyPicture(m weights.Manifest, dir string, written []string) ([]string, error) {
	h, ok := m.Config["history"]
	if !ok {
		return written, nil
	}
	history := training.DecodeHistory(h)
	if len(history) == 0 {
		return written, nil
	}
	path := filepath.Join(dir, pictureName(m)+"-loss.png")
	if err := lossCurves(path, m.Model+" training", history); err != nil {
		return written, err
	}
	return append(written, path), nil
}

// capsNetPictures writes the CapsNet's reconstructions (test digits over what the decoder makes of
// the longest capsule) and, for the first test digit of three classes, the paper's perturbation grid:
// each of the 16 dimensions of the winning capsule moved by −0.25…+0.25 in steps of 0.05.
func capsNetPictures(c *evaluate.CapsNet, name string, set *mnist.Set, n int, dir string) (written []string, err error) {
	test := training.FromSet(set, 0, set.N)
	r, err := c.Run(test.Images[:n*784], n)
	if err != nil {
		return nil, err
	}
	var originals, recons [][]float32
	for i := range n {
		originals = append(originals, test.Images[i*784:(i+1)*784])
		recons = append(recons, r.Reconstruction[i*784:(i+1)*784])
	}
	path := filepath.Join(dir, name+"-reconstructions.png")
	if err := writePNG(path, digitRows([][][]float32{originals, recons}, 2)); err != nil {
		return nil, err
	}
	written = append(written, path)
	deltas := make([]float32, 11)
	for k := range deltas {
		deltas[k] = -0.25 + 0.05*float32(k)
	}
	for _, digit := range []int32{2, 5, 7} {
		i := slices.Index(test.Labels, digit)
		if i < 0 {
			continue
		}
		rows, err := c.Perturbations(test.Images[i*784:(i+1)*784], deltas)
		if err != nil {
			return written, err
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-perturbations-%d.png", name, digit))
		if err := writePNG(path, digitRows(rows, 1)); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// pictureName is the file-name prefix of a model's pictures: the model, and "-paper" for a paper-size
// network, so its pictures sit beside the small one's instead of replacing them.
func pictureName(m weights.Manifest) string {
	if size, _ := m.Config["size"].(string); size == "paper" {
		return m.Model + "-paper"
	}
	return m.Model
}
