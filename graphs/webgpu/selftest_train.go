package webgpu

import (
	"fmt"
	"math"
	"time"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// TrainReport is the page's CNN trained for a few steps on the backend, its step time against the
// engine's, and its classifications against the engine's with the same weights.
type TrainReport struct {
	Model           string  `json:"model"`
	Steps           int     `json:"steps"`
	Batch           int     `json:"batch"`
	LossFirst       float64 `json:"lossFirst"` // mean training loss of the first and last 10 steps
	LossLast        float64 `json:"lossLast"`
	StepMs          float64 `json:"stepMs"`       // the backend's, after 5 warm-up steps
	EngineStepMs    float64 `json:"engineStepMs"` // the engine's, same model, batch and data
	Compared        int     `json:"compared"`     // test digits classified on both backends
	Agree           int     `json:"agree"`        // of them, with the same predicted class
	MaxLogitDiff    float64 `json:"maxLogitDiff"`
	Accuracy        float64 `json:"accuracy"` // the backend's, on the compared digits
	InferMs         float64 `json:"inferMs"`  // one digit, the backend's
	EngineInferMs   float64 `json:"engineInferMs"`
	BackendTrainSec float64 `json:"backendTrainSec"`
}

// stepTimes trains the model at size on backend for steps steps and returns the run, the losses and
// the mean step time after warmUp steps (the first compiles the graph).
func stepTimes(backend backends.Backend, task *training.Task, data *training.Data, batch, steps, warmUp int) (*training.Result, []float64, float64, error) {
	opt := training.Options{Epochs: 1, Batch: batch, LR: 2e-3, Seed: 1, MaxSteps: steps}
	var losses []float64
	var warm time.Time
	res, err := training.Run(backend, task, data, nil, opt, func(p training.Progress) {
		losses = append(losses, p.Loss)
		if len(losses) == warmUp {
			warm = time.Now()
		}
	})
	if err != nil {
		return nil, nil, 0, err
	}
	ms := float64(time.Since(warm).Microseconds()) / 1000 / float64(steps-warmUp)
	return res, losses, ms, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TrainCheck trains the browser's CNN (size "tiny" or "standard") for steps steps on backend and
// engineSteps on the engine, then classifies compare test digits with the backend's weights on both.
func TrainCheck(backend, engine backends.Backend, size string, train, test *mnist.Set, steps, engineSteps, compare int) (TrainReport, error) {
	const batch, warmUp = 32, 5
	r := TrainReport{Model: "cnn:" + size, Steps: steps, Batch: batch}
	if steps < 20 || engineSteps <= warmUp || compare < 1 || compare > test.N || steps*batch > train.N {
		return r, fmt.Errorf("TrainCheck: %d steps (≥ 20, %d digits at most), %d engine steps, %d test digits", steps, train.N/batch, engineSteps, compare)
	}
	m, err := zoo.Lookup("cnn")
	if err != nil {
		return r, err
	}
	cfg, err := m.NewConfig(size)
	if err != nil {
		return r, err
	}
	task, err := m.Task(cfg)
	if err != nil {
		return r, err
	}
	data := training.FromSet(train, 0, steps*batch)
	start := time.Now()
	res, losses, ms, err := stepTimes(backend, task, data, batch, steps, warmUp)
	if err != nil {
		return r, fmt.Errorf("training on %s: %w", backend.Name(), err)
	}
	r.BackendTrainSec = time.Since(start).Seconds()
	r.StepMs = ms
	r.LossFirst, r.LossLast = mean(losses[:10]), mean(losses[len(losses)-10:])
	if _, _, r.EngineStepMs, err = stepTimes(engine, task, data, batch, engineSteps, warmUp); err != nil {
		return r, fmt.Errorf("training on the engine: %w", err)
	}
	f, err := training.FinalWeights(res, task, training.Options{Epochs: 1, Batch: batch, LR: 2e-3, Seed: 1, MaxSteps: steps}, nil)
	if err != nil {
		return r, err
	}
	onGPU, err := zoo.Load(backend, f)
	if err != nil {
		return r, err
	}
	onEngine, err := zoo.Load(engine, f)
	if err != nil {
		return r, err
	}
	testData := training.FromSet(test, 0, compare)
	got, err := onGPU.Classifier.Logits(testData, 100)
	if err != nil {
		return r, err
	}
	want, err := onEngine.Classifier.Logits(testData, 100)
	if err != nil {
		return r, err
	}
	r.Compared = compare
	correct := 0
	for i := range compare {
		g, w := got.Values[i*10:(i+1)*10], want.Values[i*10:(i+1)*10]
		if argmax(g) == argmax(w) {
			r.Agree++
		}
		if argmax(g) == int(testData.Labels[i]) {
			correct++
		}
		for k := range g {
			r.MaxLogitDiff = math.Max(r.MaxLogitDiff, math.Abs(float64(g[k]-w[k])))
		}
	}
	r.Accuracy = float64(correct) / float64(compare)
	one := training.FromSet(test, 0, 1)
	infer := func(c *zoo.Trained) func() error {
		return func() error { _, err := c.Classifier.Logits(one, 1); return err }
	}
	d, err := Timing(20, infer(onGPU))
	if err != nil {
		return r, err
	}
	r.InferMs = float64(d.Microseconds()) / 1000
	if d, err = Timing(20, infer(onEngine)); err != nil {
		return r, err
	}
	r.EngineInferMs = float64(d.Microseconds()) / 1000
	return r, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// TrainSteps runs steps training steps of the page's CNN at size on backend (for a profile).
func TrainSteps(backend backends.Backend, size string, train *mnist.Set, steps int) error {
	m, err := zoo.Lookup("cnn")
	if err != nil {
		return err
	}
	cfg, err := m.NewConfig(size)
	if err != nil {
		return err
	}
	task, err := m.Task(cfg)
	if err != nil {
		return err
	}
	_, err = training.Run(backend, task, training.FromSet(train, 0, 32*steps), nil,
		training.Options{Epochs: 1, Batch: 32, LR: 2e-3, Seed: 1, MaxSteps: steps}, nil)
	return err
}
