// Package training runs mnistzip's training loops: batching MNIST, the train step on any backend,
// validation, periodic atomic checkpoints that a later run resumes exactly, NaN detection, and the
// final weights file with its manifest. Hosts (CLI, wasm) only parse options and show progress.
package training

import (
	"math/rand/v2"

	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/mnistzip/mnistzip/graphs/mnist"
)

// Data is a set of MNIST digits ready for batching: pixels scaled to [0, 1].
type Data struct {
	Images []float32 // N × 784
	Labels []int32   // N
	N      int
}

// FromSet converts n digits of set starting at start.
func FromSet(set *mnist.Set, start, n int) *Data {
	d := &Data{Images: make([]float32, n*mnist.ImageSize), Labels: make([]int32, n), N: n}
	for i := range n {
		for p, v := range set.Image(start + i) {
			d.Images[i*mnist.ImageSize+p] = float32(v) / 255
		}
		d.Labels[i] = int32(set.Labels[start+i])
	}
	return d
}

// SplitValidation returns the first n−valN digits for training and the last valN for validation: the
// validation split is held out from the training set, never taken from the test set.
func SplitValidation(set *mnist.Set, valN int) (train, val *Data) {
	return FromSet(set, 0, set.N-valN), FromSet(set, set.N-valN, valN)
}

// Batch copies the digits at indices into fresh tensors [len, 784] and [len] (int32).
func (d *Data) Batch(indices []int) (images, labels *tensors.Tensor) {
	img := make([]float32, len(indices)*mnist.ImageSize)
	lab := make([]int32, len(indices))
	for i, j := range indices {
		copy(img[i*mnist.ImageSize:(i+1)*mnist.ImageSize], d.Images[j*mnist.ImageSize:(j+1)*mnist.ImageSize])
		lab[i] = d.Labels[j]
	}
	return tensors.FromFlatDataAndDimensions(img, len(indices), mnist.ImageSize), tensors.FromFlatDataAndDimensions(lab, len(indices))
}

// epochOrder is the shuffled order of epoch e: a pure function of (seed, e), so a resumed run sees
// exactly the batches the interrupted one would have.
func epochOrder(n int, seed int64, epoch int) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)+1))
	return rng.Perm(n)
}
