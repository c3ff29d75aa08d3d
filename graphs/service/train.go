package service

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// TrainSpec is a training run a host asks for.
type TrainSpec struct {
	Model    string  `json:"model"`          // a registry model the browser may train (BrowserModels)
	Size     string  `json:"size,omitempty"` // one of the model's size presets ("": its default)
	Epochs   int     `json:"epochs"`
	Batch    int     `json:"batch"`
	LR       float64 `json:"lr"`
	Schedule string  `json:"schedule,omitempty"` // "" or "constant", "cosine"
	Seed     int64   `json:"seed"`
	Val      int     `json:"val"` // digits held out from the end of the data for validation (and calibration)
	// Data names a split the service holds (SetSplit) to train on; "": the images passed to Train.
	Data string `json:"data,omitempty"`
	// Test names a split a classifier is measured on as it trains: its first ProbeSize digits (0:
	// 1,000) every ProbeEvery steps (0: never), and all of it at the end of each epoch.
	Test       string `json:"test,omitempty"`
	ProbeEvery int    `json:"probeEvery,omitempty"`
	ProbeSize  int    `json:"probeSize,omitempty"`
	MaxSteps   int    `json:"maxSteps,omitempty"` // stop after this many steps (0: all epochs)
	// Limit trains on the first Limit digits only (0: all but the validation split, which stays the
	// data's last Val digits): short runs (tests, a quick look).
	Limit int `json:"limit,omitempty"`
	// Resume continues the run Stop ended, from the step it stopped at (the rest of the spec must
	// be that run's).
	Resume bool `json:"resume,omitempty"`
	// Backend trains on a backend the host added (AddTrainBackend: "webgpu"); "": the service's.
	Backend string `json:"backend,omitempty"`
}

// Progress is one training report: after every step, after each epoch's validation (ValLoss), and
// after each test probe (Test).
type Progress struct {
	Epoch         int     `json:"epoch"`
	Epochs        int     `json:"epochs"`
	Step          int     `json:"step"`
	Steps         int     `json:"steps"` // per epoch
	Done          int     `json:"done"`  // steps of the whole run so far
	Loss          float64 `json:"loss"`
	SamplesPerSec float64 `json:"samplesPerSec"`
	MsPerStep     float64 `json:"msPerStep"`
	// Seconds is the time spent in training steps so far, resumed parts included (probes and
	// validation excluded): what an ETA extrapolates.
	Seconds float64     `json:"seconds"`
	ValLoss float64     `json:"valLoss,omitempty"` // after an epoch
	Test    *TestReport `json:"test,omitempty"`
}

// TestReport is a classifier's accuracy on test digits during training; at an epoch's end, on the
// whole test split with its confusion matrix and misclassified digits.
type TestReport struct {
	Epoch     int         `json:"epoch"`
	Done      int         `json:"done"` // steps trained
	EpochEnd  bool        `json:"epochEnd"`
	N         int         `json:"n"`
	Accuracy  float64     `json:"accuracy"`
	Seconds   float64     `json:"seconds"`             // training time when the probe was taken (as Progress.Seconds)
	Confusion [][]int     `json:"confusion,omitempty"` // [true][predicted]
	Errors    []TestError `json:"errors,omitempty"`    // the first maxTestErrors misclassified digits
}

// TestError is one misclassified test digit.
type TestError struct {
	Index      int     `json:"index"`
	Label      int     `json:"label"`
	Predicted  int     `json:"predicted"`
	Confidence float64 `json:"confidence"`
}

const (
	maxTestErrors    = 100
	defaultProbeSize = 1000
	calibrationBins  = 15 // Guo et al. 2017
	probeBatch       = 500
)

// TrainResult is what Train returns: the trained model (loaded under the name Train was given) and,
// for a classifier with a validation split, its temperature scaling.
type TrainResult struct {
	Info
	Stopped     bool         `json:"stopped,omitempty"` // Stop ended it: TrainSpec.Resume continues it
	Calibration *Calibration `json:"calibration,omitempty"`
}

// Calibration is a temperature fitted on the validation split (Guo et al. 2017) and its effect on
// the test split (when TrainSpec.Test names one).
type Calibration struct {
	Temperature float64           `json:"temperature"`
	ValSize     int               `json:"valSize"`
	Before      *calibrate.Report `json:"before,omitempty"`
	After       *calibrate.Report `json:"after,omitempty"`
}

type stoppedRun struct {
	spec       TrainSpec
	checkpoint *weights.File
	seconds    float64
}

// ErrStopped is returned by Train when Stop ended it; the model trained so far is still loaded.
var ErrStopped = training.ErrStopped

// Train trains spec's model on a split the service holds (spec.Data) or on images [n, 784] with
// labels, reports progress after every step, epoch and probe, calibrates a classifier on the
// validation split, loads the result under name and returns it. Stop ends it within one step
// (TrainResult.Stopped, no error); spec.Resume continues it.
func (s *Service) Train(name string, spec TrainSpec, images []float32, labels []int32, progress func(Progress)) (TrainResult, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	data, err := s.trainingData(spec, images, labels)
	if err != nil {
		return TrainResult{}, err
	}
	trainOn, err := s.trainBackend(spec.Backend)
	if err != nil {
		return TrainResult{}, err
	}
	n := data.N
	m, err := zoo.Lookup(spec.Model)
	if err != nil {
		return TrainResult{}, err
	}
	if !m.Browser {
		return TrainResult{}, fmt.Errorf("%s is not trained in the browser: want %s", m.Name, strings.Join(BrowserModels(), ", "))
	}
	cfg, err := m.NewConfig(spec.Size)
	if err != nil {
		return TrainResult{}, err
	}
	task, err := m.Task(cfg)
	if err != nil {
		return TrainResult{}, err
	}
	if spec.Val < 0 || spec.Val >= n {
		return TrainResult{}, fmt.Errorf("validation split %d of %d digits", spec.Val, n)
	}
	trainN := n - spec.Val
	if spec.Limit < 0 || spec.Limit > trainN {
		return TrainResult{}, fmt.Errorf("limit %d: want 0…%d (the digits before the validation split)", spec.Limit, trainN)
	}
	if spec.Limit > 0 {
		trainN = spec.Limit
	}
	var test *split
	if spec.Test != "" {
		if m.Family != zoo.Classifier {
			return TrainResult{}, fmt.Errorf("%s is an %s: only classifiers are tested as they train", m.Name, m.Family)
		}
		if test, err = s.split(spec.Test); err != nil {
			return TrainResult{}, err
		}
	}
	if spec.ProbeEvery < 0 || spec.ProbeSize < 0 {
		return TrainResult{}, fmt.Errorf("probe every %d steps on %d digits: want ≥ 0", spec.ProbeEvery, spec.ProbeSize)
	}
	trainData := &training.Data{Images: data.Images[:trainN*784], Labels: data.Labels[:trainN], N: trainN}
	var val *training.Data
	if spec.Val > 0 {
		val = &training.Data{Images: data.Images[(n-spec.Val)*784:], Labels: data.Labels[n-spec.Val:], N: spec.Val}
	}
	opt := training.Options{Epochs: spec.Epochs, Batch: spec.Batch, LR: spec.LR, Schedule: spec.Schedule, Seed: spec.Seed,
		ValSize: spec.Val, Limit: spec.Limit, MaxSteps: spec.MaxSteps, Stop: func() bool { return s.stop.Load() },
		Command: fmt.Sprintf("browser: %+v", spec), Backend: trainOn.Name() + " (browser)"}
	if opt.LR <= 0 {
		opt.LR = 1e-3
	}
	seconds := 0.0 // training time, resumed parts included
	if spec.Resume {
		s.mu.Lock()
		prev := s.stopped
		s.mu.Unlock()
		if prev == nil {
			return TrainResult{}, errors.New("no stopped run to resume")
		}
		want := prev.spec
		want.Resume, want.MaxSteps = true, spec.MaxSteps
		if want != spec {
			return TrainResult{}, fmt.Errorf("resume: the stopped run was %+v, not %+v", prev.spec, spec)
		}
		opt.Resume, opt.From, seconds = true, prev.checkpoint, prev.seconds
	}
	s.stop.Store(false)
	opt.OnEpoch = func(h training.EpochStats) {
		progress(Progress{Epoch: h.Epoch, Epochs: spec.Epochs, Loss: h.TrainLoss, ValLoss: h.ValLoss, Seconds: seconds})
	}
	var probeErr error
	if test != nil {
		size := spec.ProbeSize
		if size == 0 {
			size = defaultProbeSize
		}
		opt.ProbeEvery = spec.ProbeEvery
		opt.Probe = func(f *weights.File, p training.Position) {
			if probeErr != nil {
				return
			}
			var r *TestReport
			r, probeErr = s.probe(f, test, size, p)
			if r != nil {
				r.Seconds = seconds
				progress(Progress{Epoch: p.Epoch, Epochs: spec.Epochs, Step: p.Step, Done: p.Steps, Seconds: seconds, Test: r})
			}
		}
	}
	start := time.Now()
	stepsPerEpoch := trainData.N / max(1, spec.Batch)
	res, runErr := training.Run(trainOn, task, trainData, val, opt, func(p training.Progress) {
		stepSeconds := float64(spec.Batch) / math.Max(p.SamplesPerSec, 1e-9)
		seconds += stepSeconds
		progress(Progress{Epoch: p.Epoch, Epochs: p.Epochs, Step: p.Step, Steps: p.StepsPerEpoch, Done: (p.Epoch-1)*stepsPerEpoch + p.Step,
			Loss: p.Loss, SamplesPerSec: p.SamplesPerSec, MsPerStep: 1000 * stepSeconds, Seconds: seconds})
	})
	if runErr == nil {
		runErr = probeErr
	}
	stopped := errors.Is(runErr, training.ErrStopped)
	if runErr != nil && !stopped {
		return TrainResult{}, runErr
	}
	s.mu.Lock()
	s.stopped = nil
	if stopped {
		s.stopped = &stoppedRun{spec: spec, checkpoint: res.Checkpoint, seconds: seconds}
		s.stopped.spec.Resume, s.stopped.spec.MaxSteps = false, 0
	}
	s.mu.Unlock()
	f, err := training.FinalWeights(res, task, opt, map[string]float64{"train_seconds": seconds, "wall_seconds": time.Since(start).Seconds()})
	if err != nil {
		return TrainResult{}, err
	}
	out := TrainResult{Stopped: stopped}
	if m.Family == zoo.Classifier && val != nil {
		if out.Calibration, err = s.calibrate(f, val, test); err != nil {
			return TrainResult{}, err
		}
	}
	if out.Info, err = s.add(name, f); err != nil {
		return TrainResult{}, err
	}
	return out, nil
}

func (s *Service) trainingData(spec TrainSpec, images []float32, labels []int32) (*training.Data, error) {
	if spec.Data == "" {
		if err := checkImages(images, len(labels)); err != nil {
			return nil, err
		}
		return &training.Data{Images: images, Labels: labels, N: len(labels)}, nil
	}
	sp, err := s.split(spec.Data)
	if err != nil {
		return nil, err
	}
	return sp.data, nil
}

// probe classifies the first n digits of test (all of them at an epoch's end) with the weights f.
func (s *Service) probe(f *weights.File, test *split, n int, p training.Position) (*TestReport, error) {
	clf, err := s.classifier(f)
	if err != nil {
		return nil, err
	}
	n = min(n, test.data.N)
	if p.EpochEnd {
		n = test.data.N
	}
	d := &training.Data{Images: test.data.Images[:n*784], Labels: test.data.Labels[:n], N: n}
	logits, err := clf.Logits(d, probeBatch)
	if err != nil {
		return nil, err
	}
	r := &TestReport{Epoch: p.Epoch, Done: p.Steps, EpochEnd: p.EpochEnd, N: n}
	var confusion [10][10]int
	probs := make([]float64, 10)
	correct := 0
	for i := range n {
		logits.Probabilities(i, 1, probs)
		pred := 0
		for c := range probs {
			if probs[c] > probs[pred] {
				pred = c
			}
		}
		y := int(d.Labels[i])
		confusion[y][pred]++
		if pred == y {
			correct++
		} else if len(r.Errors) < maxTestErrors {
			r.Errors = append(r.Errors, TestError{Index: i, Label: y, Predicted: pred, Confidence: probs[pred]})
		}
	}
	r.Accuracy = float64(correct) / float64(n)
	if p.EpochEnd {
		for _, row := range confusion {
			r.Confusion = append(r.Confusion, row[:])
		}
	} else {
		r.Errors = nil
	}
	return r, nil
}

func (s *Service) classifier(f *weights.File) (*evaluate.Classifier, error) {
	t, err := zoo.Load(s.backend, f)
	if err != nil {
		return nil, err
	}
	if t.Classifier == nil {
		return nil, fmt.Errorf("%s is not a classifier", f.Manifest.Model)
	}
	return t.Classifier, nil
}

// calibrate fits f's softmax temperature on the validation split and stores it in f's manifest,
// reporting NLL and ECE on the test split before and after (when there is one).
func (s *Service) calibrate(f *weights.File, val *training.Data, test *split) (*Calibration, error) {
	clf, err := s.classifier(f)
	if err != nil {
		return nil, err
	}
	valLogits, err := clf.Logits(val, probeBatch)
	if err != nil {
		return nil, err
	}
	t, err := calibrate.FitTemperature(valLogits)
	if err != nil {
		return nil, err
	}
	c := &Calibration{Temperature: t, ValSize: val.N}
	if test != nil {
		testLogits, err := clf.Logits(test.data, probeBatch)
		if err != nil {
			return nil, err
		}
		before, err := calibrate.Measure(testLogits, 1, calibrationBins)
		if err != nil {
			return nil, err
		}
		after, err := calibrate.Measure(testLogits, t, calibrationBins)
		if err != nil {
			return nil, err
		}
		c.Before, c.After = &before, &after
		f.Manifest.Metrics["test_accuracy"] = after.Accuracy
		f.Manifest.Metrics["test_nll"], f.Manifest.Metrics["test_ece"] = after.NLL, after.ECE
	}
	f.Manifest.Temperature = t
	return c, nil
}
