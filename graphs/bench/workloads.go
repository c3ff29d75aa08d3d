// Package bench defines the engine's reference training workloads (W1 dense autoencoder, W2 small
// CNN, W3 paper-size CapsNet step, W4 DenseNet small) and times them on any backend, so `go test -bench`, `mnistzip
// bench` and the GPU check all measure the same graphs.
package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/layers"
	"github.com/gomlx/gomlx/pkg/ml/layers/activations"
	"github.com/gomlx/gomlx/pkg/ml/train"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
	"github.com/gomlx/gomlx/pkg/ml/train/optimizers"

	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
)

// Workload is one training step to time: a model, a loss and the batch it trains on.
type Workload struct {
	Name        string
	Description string
	Batch       int
	// FLOPs is the multiply-add count ×2 of one training step's matrix products and convolutions
	// (forward + both gradients ≈ 3× forward), for GFLOP/s figures.
	FLOPs  float64
	model  train.ModelFn
	loss   train.LossFn
	inputs func(rng *rand.Rand) []*tensors.Tensor
	labels func(rng *rand.Rand) []*tensors.Tensor
}

// W1 is the dense autoencoder 784-512-32-512-784, MSE, Adam, batch 128.
func W1() *Workload {
	const batch = 128
	macs := float64(784*512+512*32+32*512+512*784) * batch
	return &Workload{
		Name: "W1", Description: "dense AE 784-512-32-512-784, MSE, Adam, batch 128", Batch: batch, FLOPs: 6 * macs,
		model: func(ctx *context.Context, _ any, in []*Node) []*Node {
			x := in[0]
			for i, d := range []int{512, 32, 512} {
				x = layers.DenseWithBias(ctx.In(fmt.Sprintf("dense%d", i)), x, d)
				if d != 32 {
					x = activations.Relu(x)
				}
			}
			return []*Node{Sigmoid(layers.DenseWithBias(ctx.In("out"), x, 784))}
		},
		loss:   losses.MeanSquaredError,
		inputs: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randImages(rng, batch, 784)} },
		labels: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randImages(rng, batch, 784)} },
	}
}

// W2 is the small CNN conv3×3×32 → conv3×3×64/2 → conv3×3×64/2 → dense 128 → dense 10, softmax
// cross-entropy, Adam, batch 64.
func W2() *Workload {
	const batch = 64
	macs := float64(28*28*9*1*32+14*14*9*32*64+7*7*9*64*64+7*7*64*128+128*10) * batch
	return &Workload{
		Name: "W2", Description: "CNN conv32 → conv64/2 → conv64/2 → 128 → 10, Adam, batch 64", Batch: batch, FLOPs: 6 * macs,
		model: func(ctx *context.Context, _ any, in []*Node) []*Node {
			x := Reshape(in[0], batch, 28, 28, 1)
			for i, c := range []struct{ filters, stride int }{{32, 1}, {64, 2}, {64, 2}} {
				x = layers.Convolution(ctx.In(fmt.Sprintf("conv%d", i)), x).Filters(c.filters).KernelSize(3).
					Strides(c.stride).PadSame().Done()
				x = activations.Relu(x)
			}
			x = Reshape(x, batch, -1)
			x = activations.Relu(layers.DenseWithBias(ctx.In("dense0"), x, 128))
			return []*Node{layers.DenseWithBias(ctx.In("logits"), x, 10)}
		},
		loss:   losses.SparseCategoricalCrossEntropyLogits,
		inputs: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randImages(rng, batch, 784)} },
		labels: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randLabels(rng, batch)} },
	}
}

// W3 is one training step of the paper-size CapsNet (conv 9×9×256, primary capsules 9×9/2 → 32×6×6×8,
// digit capsules 10×16 with 3 routing iterations, decoder 512-1024-784), batch 16, Adam.
func W3() *Workload {
	return capsNetWorkload("W3", "CapsNet paper size (8.2M params), 3 routings, Adam, batch 16", models.CapsNetPaper, 16)
}

// W3Small is W3 with models.CapsNetSmall.
func W3Small() *Workload {
	return capsNetWorkload("W3s", "CapsNet small (64-ch conv, 8 capsule types), Adam, batch 16", models.CapsNetSmall, 16)
}

// W4 is one training step of DenseNet small (k = 12; 3 blocks of 4 BN-ReLU-conv3×3 layers at 14×14, 7×7
// and 3×3 after the stem pooling), softmax cross-entropy, Adam, batch 128: the engine runs its k-channel
// layers multiply-first.
func W4() *Workload {
	const batch = 128
	cfg := models.DenseNetSmall
	return &Workload{
		Name: "W4", Description: "DenseNet small (k = 12, 3 × 4 layers at 14/7/3 px), Adam, batch 128", Batch: batch,
		FLOPs: 6 * denseNetMACs(cfg) * batch,
		model: func(ctx *context.Context, _ any, in []*Node) []*Node {
			return []*Node{models.DenseNet(ctx, cfg, Reshape(in[0], batch, 28, 28, 1))}
		},
		loss:   losses.SparseCategoricalCrossEntropyLogits,
		inputs: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randImages(rng, batch, 784)} },
		labels: func(rng *rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{randLabels(rng, batch)} },
	}
}

// denseNetMACs counts one digit's multiply-adds in cfg's convolutions and classifier.
func denseNetMACs(cfg models.DenseNetConfig) float64 {
	side, c := 28, cfg.InitChannels
	macs := side * side * 9 * c
	if cfg.StemPool {
		side /= 2
	}
	for b := range cfg.Blocks {
		for range cfg.LayersPerBlock {
			macs += side * side * 9 * c * cfg.Growth
			c += cfg.Growth
		}
		if b < cfg.Blocks-1 {
			out := max(1, int(float64(c)*cfg.Compression))
			macs += side * side * c * out
			c, side = out, side/2
		}
	}
	return float64(macs + c*10)
}

func capsNetWorkload(name, desc string, cfg models.CapsNetConfig, batch int) *Workload {
	primaryCh := cfg.PrimaryTypes * cfg.PrimaryDim
	numPrimary := 36 * cfg.PrimaryTypes
	macs := float64(20*20*81*cfg.Conv1Channels+36*81*cfg.Conv1Channels*primaryCh+
		numPrimary*10*cfg.DigitDim*cfg.PrimaryDim+cfg.RoutingIterations*2*numPrimary*10*cfg.DigitDim+
		10*cfg.DigitDim*cfg.Decoder[0]+cfg.Decoder[0]*cfg.Decoder[1]+cfg.Decoder[1]*784) * float64(batch)
	var labels *tensors.Tensor // the decoder's mask (an input) and the loss's labels are the same draw
	return &Workload{
		Name: name, Description: desc, Batch: batch, FLOPs: 6 * macs,
		model: func(ctx *context.Context, _ any, in []*Node) []*Node {
			images := Reshape(in[0], batch, 28, 28, 1)
			out := models.CapsNet(ctx, cfg, images, Reshape(in[1], batch))
			return []*Node{out.Lengths, out.Reconstruction, in[0]}
		},
		loss: func(labels, predictions []*Node) *Node {
			out := models.CapsNetOutputs{Lengths: predictions[0], Reconstruction: predictions[1]}
			return models.CapsNetLoss(out, Reshape(labels[0], batch), predictions[2])
		},
		inputs: func(rng *rand.Rand) []*tensors.Tensor {
			labels = randLabels(rng, batch)
			return []*tensors.Tensor{randImages(rng, batch, 784), labels}
		},
		labels: func(*rand.Rand) []*tensors.Tensor { return []*tensors.Tensor{labels} },
	}
}

func randImages(rng *rand.Rand, n, size int) *tensors.Tensor {
	data := make([]float32, n*size)
	for i := range data {
		data[i] = rng.Float32()
	}
	return tensors.FromFlatDataAndDimensions(data, n, size)
}

func randLabels(rng *rand.Rand, n int) *tensors.Tensor {
	data := make([]int32, n)
	for i := range data {
		data[i] = int32(rng.IntN(10))
	}
	return tensors.FromFlatDataAndDimensions(data, n, 1)
}

// Result is the timing of one workload on one backend.
type Result struct {
	Workload    string
	Backend     string
	SecPerStep  float64
	Steps       int
	CompileSecs float64 // first step: graph building + compilation + one step
	Err         error
}

// GFLOPs returns the achieved throughput.
func (r Result) GFLOPs(w *Workload) float64 { return w.FLOPs / r.SecPerStep / 1e9 }

// Time builds the workload's trainer on backend, runs one warm-up step (compilation) and then steps
// until minTime has passed (at least minSteps), returning seconds per step.
func Time(backend backends.Backend, w *Workload, minSteps int, minTime time.Duration) (res Result) {
	return TimeOnDevices(backend, w, 1, minSteps, minTime)
}

// TimeOnDevices is Time with each batch sharded across devices devices of backend (data parallelism,
// as `mnistzip train --devices`).
func TimeOnDevices(backend backends.Backend, w *Workload, devices, minSteps int, minTime time.Duration) (res Result) {
	res = Result{Workload: w.Name, Backend: backend.Name()}
	defer func() {
		if r := recover(); r != nil {
			res.Err = fmt.Errorf("%v", r)
		}
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.New()
	trainer := train.NewTrainer(backend, ctx, w.model, w.loss, optimizers.Adam().LearningRate(1e-3).Done(), nil, nil)
	inputs, labels := w.inputs(rng), w.labels(rng)
	step := func() error {
		_, err := trainer.TrainStep(nil, inputs, labels)
		return err
	}
	if devices > 1 {
		dp, err := training.NewDataParallel(backend, devices, w.Batch)
		if err != nil {
			res.Err = err
			return res
		}
		step = func() error {
			_, err := dp.Step(trainer, inputs, labels)
			return err
		}
	}
	start := time.Now()
	if err := step(); err != nil {
		res.Err = err
		return res
	}
	res.CompileSecs = time.Since(start).Seconds()
	start = time.Now()
	for res.Steps < minSteps || time.Since(start) < minTime {
		if err := step(); err != nil {
			res.Err = err
			return res
		}
		res.Steps++
	}
	res.SecPerStep = time.Since(start).Seconds() / float64(res.Steps)
	return res
}
