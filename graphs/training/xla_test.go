package training

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
	"github.com/gomlx/gomlx/pkg/ml/context/initializers"

	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/xlatest"
)

type xlaTask struct {
	name     string
	task     *Task // without random shifts (see TestXLAAgreesWithEngine on random draws)
	real     *Task // the task make models trains
	batch    int
	training bool // the training graph (batch statistics, the CapsNet's label mask) rather than inference
}

// xlaTasks is every model the XLA tests cover, with the batch each runs at (small enough for the
// engine's side of the comparison to stay quick).
func xlaTasks(t *testing.T) []xlaTask {
	t.Helper()
	var out []xlaTask
	for _, kind := range []models.AEKind{models.AE, models.DAE, models.SparseAE, models.VAE, models.SubPixel, models.DenseAE} {
		task := AETask(models.DefaultAEConfig(kind))
		// The DAE's masks and the VAE's ε are random draws: compared outside training (the DAE then
		// runs its clean path, the VAE decodes its mean; its loss keeps the KL term).
		out = append(out, xlaTask{string(kind), task, task, 16, kind != models.DAE && kind != models.VAE})
	}
	for _, c := range classifierCases() {
		out = append(out, xlaTask{c.name, c.task(false), c.task(true), c.batch, true})
	}
	return out
}

// lossAndGradients runs task's training graph once on backend with ctx's variables (created and
// initialized on the first call) and returns the loss, the model's outputs and the gradient of the
// loss for every trainable variable, in variable-name order.
func lossAndGradients(t *testing.T, backend backends.Backend, ctx *context.Context, task *Task, training bool, images, labels *tensors.Tensor) (names []string, outs []*tensors.Tensor) {
	t.Helper()
	inputs, targets := task.Feed(images, labels)
	nIn := len(inputs)
	exec, err := context.NewExecAny(backend, ctx, func(ctx *context.Context, xs []*Node) []*Node {
		g := xs[0].Graph()
		ctx.SetTraining(g, training)
		preds := task.ModelFn(ctx, nil, xs[:nIn])
		loss := task.LossFn(xs[nIn:], preds)
		var vars []*context.Variable
		for v := range ctx.IterVariables() {
			if v.Trainable && v.InUseByGraph(g) {
				vars = append(vars, v)
			}
		}
		slices.SortFunc(vars, func(a, b *context.Variable) int {
			if a.ScopeAndName() < b.ScopeAndName() {
				return -1
			}
			return 1
		})
		values := make([]*Node, len(vars))
		names = names[:0]
		for i, v := range vars {
			values[i] = v.ValueGraph(g)
			names = append(names, v.ScopeAndName())
		}
		return append(append([]*Node{loss}, preds...), Gradient(loss, values...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, 0, len(inputs)+len(targets))
	for _, x := range append(inputs, targets...) {
		args = append(args, x)
	}
	outs, err = exec.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		o.MaterializeLocal()
	}
	return names, outs
}

// relErr is max|got−want| / max(max|want|, floor): the error relative to the tensor's own scale, so
// tiny entries of a gradient whose large entries agree do not count as disagreement. The floor is for
// gradients that are zero in exact arithmetic and only float32 round-off in practice (the offsets of
// the DenseNet's transition batch norms, whose shift the next batch norm removes: ~1e-7 on both
// backends, with no digit in common).
func relErr(got, want *tensors.Tensor, floor float64) float64 {
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	var diff, scale float64
	for i := range w {
		diff = math.Max(diff, math.Abs(float64(g[i])-float64(w[i])))
		scale = math.Max(scale, math.Abs(float64(w[i])))
	}
	scale = math.Max(scale, floor)
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// agreementTol bounds relErr between XLA CPU and the engine in float32: both sum in different orders
// (XLA's Eigen kernels, the engine's im2col products) and XLA fuses exp/log differently, so values
// agree to a few units in the 6th digit; gradients through 3 routing iterations and batch statistics
// lose one more digit.
const agreementTol = 2e-4

// TestXLAAgreesWithEngine: for every model, the loss, every output and the gradient of every
// parameter computed on XLA CPU agree with the pure-Go engine's on the same weights and batch.
// Random draws are left out: XLA's RngBitGenerator and simplego's Philox give different numbers from
// the same state (seen: the first uniforms of seed 3 are 0.4385… on XLA, 0.3221… on the engine), so
// the classifiers run without their training shifts and the DAE and VAE outside training.
func TestXLAAgreesWithEngine(t *testing.T) {
	xla := xlatest.Backend(t)
	engine := testBackend(t)
	train, _ := testData(t)
	for _, tc := range xlaTasks(t) {
		t.Run(tc.name, func(t *testing.T) {
			batch := func() (images, labels *tensors.Tensor) { return train.Batch(iotaInts(tc.batch)) } // fresh tensors per backend
			ctx := context.New()
			ctx.SetParam(initializers.ParamInitialSeed, int64(3))
			images, labels := batch()
			lossAndGradients(t, engine, ctx, tc.task, tc.training, images, labels) // creates and initializes the variables
			// Both sides then start from the same weights and the same random-number state.
			if err := ctx.SetRNGStateFromSeed(3); err != nil {
				t.Fatal(err)
			}
			ctxXLA, err := ctx.Clone()
			if err != nil {
				t.Fatal(err)
			}
			for v := range ctxXLA.IterVariables() { // a tensor lives on one backend: the clone gets copies
				local, err := v.MustValue().LocalClone()
				if err != nil {
					t.Fatal(err)
				}
				v.MustSetValue(local)
			}
			images, labels = batch()
			names, want := lossAndGradients(t, engine, ctx.Reuse(), tc.task, tc.training, images, labels)
			images, labels = batch()
			namesX, got := lossAndGradients(t, xla, ctxXLA.Reuse(), tc.task, tc.training, images, labels)
			if !slices.Equal(names, namesX) || len(got) != len(want) {
				t.Fatalf("XLA graph has %d outputs / variables %v, engine %d / %v", len(got), namesX, len(want), names)
			}
			nOut := len(want) - len(names)
			gradScale := 0.0 // the model's largest gradient entry
			for _, g := range want[nOut:] {
				gradScale = math.Max(gradScale, maxAbs(g))
			}
			worst, worstName := 0.0, ""
			for i := range want {
				what := fmt.Sprintf("output %d", i)
				if i == 0 {
					what = "loss"
				} else if i >= nOut {
					what = "gradient of " + names[i-nOut]
				}
				floor := 0.0
				if i >= nOut {
					floor = gradScale / 100
				}
				e := relErr(got[i], want[i], floor)
				if e > worst {
					worst, worstName = e, what
				}
				if e > agreementTol {
					t.Errorf("%s: XLA and engine differ by %.3g of its scale (tolerance %.0g): max |engine| %.3g",
						what, e, agreementTol, maxAbs(want[i]))
				}
			}
			t.Logf("%s: loss %.6g (XLA) vs %.6g (engine); %d parameters; worst relative error %.2g (%s)",
				tc.name, scalar(got[0]), scalar(want[0]), len(names), worst, worstName)
		})
	}
}

func iotaInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func maxAbs(x *tensors.Tensor) float64 {
	m := 0.0
	for _, v := range tensors.MustCopyFlatData[float32](x) {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// TestXLATrainingLowersLoss: the real training graphs (random shifts, masks and sampling included)
// train on XLA CPU: over 24 steps of batch 32 on real digits the loss of the last 4 steps is below
// that of the first 4.
func TestXLATrainingLowersLoss(t *testing.T) {
	xla := xlatest.Backend(t)
	train, val := testData(t)
	for _, tc := range xlaTasks(t) {
		t.Run(tc.name, func(t *testing.T) {
			task := tc.real
			var err error
			var losses []float64
			_, err = Run(xla, task, train, val, Options{Epochs: 1, Batch: 32, LR: 2e-3, Seed: 1, MaxSteps: 24},
				func(p Progress) { losses = append(losses, p.Loss) })
			if err != nil {
				t.Fatal(err)
			}
			mean := func(xs []float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += x
				}
				return s / float64(len(xs))
			}
			first, last := mean(losses[:4]), mean(losses[len(losses)-4:])
			t.Logf("%s on XLA: loss %.4g over the first 4 steps, %.4g over the last 4", tc.name, first, last)
			if !(last < 0.95*first) {
				t.Errorf("%s: loss did not fall on XLA: %.4g → %.4g", tc.name, first, last)
			}
		})
	}
}

// TestXLADataParallel: --devices 2 (each batch sharded across two XLA CPU devices by GoMLX's
// distributed package) follows the single-device run step for step: the losses of 20 steps agree to
// devicesTol, and the trained weights too. The graphs compared have no random draws (see
// TestXLAAgreesWithEngine).
func TestXLADataParallel(t *testing.T) {
	xla := xlatest.Backend(t)
	if xla.NumDevices() < 2 {
		t.Skipf("XLA CPU shows %d device(s); set XLA_FLAGS=--xla_force_host_platform_device_count=2", xla.NumDevices())
	}
	// Summing the gradient over two half-batches instead of one batch changes float32 rounding; Adam's
	// normalized updates carry that into later steps, so agreement is to a few units in the 5th digit.
	const devicesTol = 1e-4
	train, val := testData(t)
	cnn := cnnTask(0)
	dense := AETask(models.DefaultAEConfig(models.DenseAE))
	for _, task := range []*Task{dense, cnn} {
		t.Run(task.Model, func(t *testing.T) {
			run := func(devices int) ([]float64, *Result) {
				var losses []float64
				res, err := Run(xla, task, train, val, Options{Epochs: 1, Batch: 32, LR: 1e-3, Seed: 1, MaxSteps: 20, Devices: devices},
					func(p Progress) { losses = append(losses, p.Loss) })
				if err != nil {
					t.Fatalf("--devices %d: %v", devices, err)
				}
				return losses, res
			}
			one, resOne := run(1)
			two, resTwo := run(2)
			worst := 0.0
			for i := range one {
				worst = math.Max(worst, math.Abs(one[i]-two[i])/math.Abs(one[i]))
			}
			t.Logf("%s: 20 steps, loss %.5g → %.5g on one device, %.5g → %.5g on two; worst relative difference %.2g",
				task.Model, one[0], one[19], two[0], two[19], worst)
			if worst > devicesTol {
				t.Errorf("%s: losses on 2 devices differ from 1 device by up to %.3g (tolerance %.0g)", task.Model, worst, devicesTol)
			}
			for v := range resOne.Ctx.IterVariables() {
				if !v.Trainable {
					continue
				}
				w2 := resTwo.Ctx.GetVariableByScopeAndName(v.Scope(), v.Name())
				if w2 == nil {
					t.Fatalf("variable %s missing after the 2-device run", v.ScopeAndName())
				}
				if dv, err := w2.DistributedValue(); err != nil || dv == nil || dv.NumShards() != 2 {
					t.Fatalf("variable %s after the 2-device run is not replicated on 2 devices (%v)", v.ScopeAndName(), err)
				}
				if e := relErr(w2.MustValue(), v.MustValue(), 0); e > 10*devicesTol {
					t.Errorf("weights %s differ by %.3g of their scale after 20 steps", v.ScopeAndName(), e)
				}
			}
		})
	}
	// A whole epoch on two devices (validation and the end-of-epoch checkpoint included), resumed on one;
	// and a batch-norm model (moving averages updated under sharding).
	ckpt := filepath.Join(t.TempDir(), "dp.ckpt")
	opt := Options{Epochs: 1, Batch: 32, LR: 1e-3, Seed: 1, Devices: 2, Checkpoint: ckpt}
	res, err := Run(xla, dense, train, val, opt, nil)
	if err != nil || len(res.History) != 1 || !(res.History[0].ValLoss > 0) {
		t.Fatalf("one epoch on 2 devices: %v (history %+v)", err, res)
	}
	opt.Epochs, opt.Devices, opt.Resume = 2, 1, true
	if res, err = Run(xla, dense, train, val, opt, nil); err != nil || len(res.History) != 2 || !(res.History[1].ValLoss < res.History[0].ValLoss) {
		t.Fatalf("resumed on 1 device: %v (history %+v)", err, res)
	}
	t.Logf("2-device epoch then 1-device resume: validation loss %.4f → %.4f", res.History[0].ValLoss, res.History[1].ValLoss)
	densenet := classifierCases()[1].task(true)
	if _, err := Run(xla, densenet, train, val, Options{Epochs: 1, Batch: 32, LR: 1e-3, Seed: 1, Devices: 2, MaxSteps: 3}, nil); err != nil {
		t.Errorf("DenseNet (batch norm) on 2 devices: %v", err)
	}
	if _, err := Run(xla, dense, train, val, Options{Epochs: 1, Batch: 32, MaxSteps: 1, Devices: xla.NumDevices() + 1}, nil); err == nil {
		t.Errorf("--devices %d on %d devices: no error", xla.NumDevices()+1, xla.NumDevices())
	} else {
		t.Logf("more devices than there are: %v", err)
	}
}
