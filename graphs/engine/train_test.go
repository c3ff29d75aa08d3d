package engine

import (
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/layers/batchnorm"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/mnistzip/mnistzip/graphs/mnist"
)

// TestSmallCNNTrains trains a CNN with every op family the models use (convolutions with stride 1 and
// 2, max pooling, batch normalization, dense layers, softmax cross-entropy) on the 1,000 real training
// digits in testdata/ and requires the loss to fall well below its start: the test fails if any
// gradient the engine supplies is wrong enough to stop learning.
func TestSmallCNNTrains(t *testing.T) {
	set, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	const batch, steps = 32, 200
	model := func(ctx *context.Context, _ any, in []*Node) []*Node {
		x := Reshape(in[0], batch, 28, 28, 1)
		x = layers.Convolution(ctx.In("conv1"), x).Filters(8).KernelSize(3).PadSame().Done()
		x = MaxPool(activations.Relu(x)).Window(2).Done() // 14×14
		x = batchnorm.New(ctx.In("bn1"), x, -1).Done()
		x = layers.Convolution(ctx.In("conv2"), x).Filters(16).KernelSize(3).Strides(2).PadSame().Done() // 7×7
		x = activations.Relu(x)
		x = Reshape(x, batch, -1)
		return []*Node{layers.DenseWithBias(ctx.In("logits"), x, 10)}
	}
	ctx := context.New()
	trainer := train.NewTrainer(testBackend, ctx, model, losses.SparseCategoricalCrossEntropyLogits,
		optimizers.Adam().LearningRate(3e-3).Done(), nil, nil)
	rng := rand.New(rand.NewPCG(1, 1))
	images := make([]float32, batch*784)
	labels := make([]int32, batch)
	var first, last float64
	const window = 20 // average the loss over the first and last 20 steps
	for step := range steps {
		for i := range batch {
			j := rng.IntN(set.N)
			for p, v := range set.Image(j) {
				images[i*784+p] = float32(v) / 255
			}
			labels[i] = int32(set.Labels[j])
		}
		metrics, err := trainer.TrainStep(nil,
			[]*tensors.Tensor{tensors.FromFlatDataAndDimensions(images, batch, 784)},
			[]*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, batch, 1)})
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		loss := float64(metrics[0].Value().(float32))
		if step < window {
			first += loss / window
		}
		if step >= steps-window {
			last += loss / window
		}
	}
	t.Logf("mean training loss: first %d steps %.3f, last %d steps %.3f", window, first, window, last)
	if !(last < 0.4*first) {
		t.Fatalf("loss fell from %.3f to %.3f only: training does not work", first, last)
	}
}
