package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// pictureMaker draws one kind of picture of a trained model from the test set (n digits per row
// where it shows digits) into dir and returns the files it wrote.
type pictureMaker func(t *zoo.Trained, set *mnist.Set, n int, dir string) ([]string, error)

// pictureMakers draws every picture kind a registry entry may list (TestPictureMakers checks).
var pictureMakers = map[zoo.Picture]pictureMaker{
	zoo.Reconstructions:        aeReconstructions,
	zoo.Denoising:              aeDenoising,
	zoo.LatentGrid:             vaeLatentGrid,
	zoo.LatentScatter:          vaeLatentScatter,
	zoo.CapsuleReconstructions: capsuleReconstructions,
	zoo.CapsulePerturbations:   capsulePerturbations,
}

// rowsOf splits n flat 784-pixel images into rows of one image each.
func rowsOf(flat []float32, n int) [][]float32 {
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = flat[i*784 : (i+1)*784]
	}
	return rows
}

func savePNG(dir, file string, rows [][][]float32, scale int) ([]string, error) {
	path := filepath.Join(dir, file)
	if err := writePNG(path, digitRows(rows, scale)); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

func needAutoencoder(t *zoo.Trained) error {
	if t.Autoencoder == nil {
		return fmt.Errorf("%s is not an autoencoder", t.Model.Name)
	}
	return nil
}

// aeReconstructions: n test digits over their reconstructions.
func aeReconstructions(t *zoo.Trained, set *mnist.Set, n int, dir string) ([]string, error) {
	if err := needAutoencoder(t); err != nil {
		return nil, err
	}
	test := training.FromSet(set, 0, n)
	o, err := t.Autoencoder.Run(test.Images, n)
	if err != nil {
		return nil, err
	}
	return savePNG(dir, t.Label+"-reconstructions.png", [][][]float32{rowsOf(test.Images, n), rowsOf(o.Recon, n)}, 2)
}

// aeDenoising: the corrupted digits, the denoised ones and the clean ones.
func aeDenoising(t *zoo.Trained, set *mnist.Set, n int, dir string) ([]string, error) {
	if err := needAutoencoder(t); err != nil {
		return nil, err
	}
	test := training.FromSet(set, 0, n)
	o, err := t.Autoencoder.Run(test.Images, n)
	if err != nil {
		return nil, err
	}
	if o.Noisy == nil {
		return nil, fmt.Errorf("%s has no corruption to show", t.Model.Name)
	}
	return savePNG(dir, t.Label+"-denoising.png", [][][]float32{rowsOf(o.Noisy, n), rowsOf(o.Denoised, n), rowsOf(test.Images, n)}, 2)
}

// vaeLatentGrid: a 20×20 grid decoded over the latent plane at the standard normal's quantiles
// 5%…95%.
func vaeLatentGrid(t *zoo.Trained, _ *mnist.Set, _ int, dir string) ([]string, error) {
	if err := needAutoencoder(t); err != nil {
		return nil, err
	}
	if t.Autoencoder.Config.CodeSize != 2 {
		return nil, nil // only a 2-D latent is a plane
	}
	const g = 20
	q := func(i int) float32 { p := 0.05 + 0.9*float64(i)/(g-1); return float32(math.Sqrt2 * math.Erfinv(2*p-1)) }
	codes := make([]float32, 0, g*g*2)
	for r := range g {
		for c := range g {
			codes = append(codes, q(c), q(g-1-r))
		}
	}
	decoded, err := t.Autoencoder.Decode(codes, g*g)
	if err != nil {
		return nil, err
	}
	rows := make([][][]float32, g)
	for r := range rows {
		for c := range g {
			rows[r] = append(rows[r], decoded[(r*g+c)*784:(r*g+c+1)*784])
		}
	}
	return savePNG(dir, t.Label+"-latent-grid.png", rows, 1)
}

// vaeLatentScatter: the latent means of the whole test set, coloured by digit.
func vaeLatentScatter(t *zoo.Trained, set *mnist.Set, _ int, dir string) ([]string, error) {
	if err := needAutoencoder(t); err != nil {
		return nil, err
	}
	if t.Autoencoder.Config.CodeSize != 2 {
		return nil, nil
	}
	test := training.FromSet(set, 0, set.N)
	means := make([]float32, 0, test.N*2)
	for start := 0; start < test.N; start += 1000 {
		k := min(1000, test.N-start)
		o, err := t.Autoencoder.Run(test.Images[start*784:(start+k)*784], k)
		if err != nil {
			return nil, err
		}
		means = append(means, o.Code...)
	}
	path := filepath.Join(dir, t.Label+"-latent-scatter.png")
	if err := latentScatter(path, means, test.Labels); err != nil {
		return nil, err
	}
	return []string{path}, nil
}

func needCapsNet(t *zoo.Trained) error {
	if t.CapsNet == nil {
		return fmt.Errorf("%s is not a capsule network", t.Model.Name)
	}
	return nil
}

// capsuleReconstructions: test digits over what the decoder makes of the longest capsule.
func capsuleReconstructions(t *zoo.Trained, set *mnist.Set, n int, dir string) ([]string, error) {
	if err := needCapsNet(t); err != nil {
		return nil, err
	}
	test := training.FromSet(set, 0, n)
	r, err := t.CapsNet.Run(test.Images, n)
	if err != nil {
		return nil, err
	}
	return savePNG(dir, t.Label+"-reconstructions.png", [][][]float32{rowsOf(test.Images, n), rowsOf(r.Reconstruction, n)}, 2)
}

// capsulePerturbations: for the first test digit of three classes, the paper's perturbation grid:
// each of the 16 dimensions of the winning capsule moved by −0.25…+0.25 in steps of 0.05.
func capsulePerturbations(t *zoo.Trained, set *mnist.Set, _ int, dir string) (written []string, err error) {
	if err := needCapsNet(t); err != nil {
		return nil, err
	}
	test := training.FromSet(set, 0, set.N)
	deltas := make([]float32, 11)
	for k := range deltas {
		deltas[k] = -0.25 + 0.05*float32(k)
	}
	for _, digit := range []int32{2, 5, 7} {
		i := slices.Index(test.Labels, digit)
		if i < 0 {
			continue
		}
		rows, err := t.CapsNet.Perturbations(test.Images[i*784:(i+1)*784], deltas)
		if err != nil {
			return written, err
		}
		w, err := savePNG(dir, fmt.Sprintf("%s-perturbations-%d.png", t.Label, digit), rows, 1)
		written = append(written, w...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
