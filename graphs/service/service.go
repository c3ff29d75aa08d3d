// Package service is what a host (the browser's WebAssembly build, a server) does with trained
// models by name: load weights from bytes, classify with calibrated probabilities, reconstruct,
// encode, decode latent points, and train a small model with progress reports and a stop switch. The
// hosts only translate their values to and from these calls.
package service

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// Service holds the loaded models of one host.
type Service struct {
	backend backends.Backend
	mu      sync.Mutex
	models  map[string]*loaded
	splits  map[string]*split
	stop    atomic.Bool
	// stopped is the state of the last training run Stop ended, for TrainSpec.Resume.
	stopped *stoppedRun
	// trainers are more backends a training run may choose (TrainSpec.Backend): the browser's GPU.
	trainers map[string]backends.Backend
}

type loaded struct {
	file *weights.File
	ae   *evaluate.Autoencoder
	clf  *evaluate.Classifier
}

// New returns a service running its graphs on backend.
func New(backend backends.Backend) *Service {
	return &Service{backend: backend, models: map[string]*loaded{}, splits: map[string]*split{}}
}

// AddTrainBackend makes backend available to training runs as spec.Backend = name (the host opens
// it: the page's WebGPU device). Evaluation, probes and calibration stay on the service's backend.
func (s *Service) AddTrainBackend(name string, backend backends.Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.trainers == nil {
		s.trainers = map[string]backends.Backend{}
	}
	s.trainers[name] = backend
}

// trainBackend is the backend spec.Backend names ("": the service's own).
func (s *Service) trainBackend(name string) (backends.Backend, error) {
	if name == "" {
		return s.backend, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.trainers[name]
	if !ok {
		return nil, fmt.Errorf("no training backend %q here (the page adds \"webgpu\" when the browser has a WebGPU adapter)", name)
	}
	return b, nil
}

// Info describes a loaded model.
type Info struct {
	Name        string         `json:"name"`
	Model       string         `json:"model"`
	ID          string         `json:"id"`
	Params      int            `json:"params"`
	Classifier  bool           `json:"classifier"`
	CodeSize    int            `json:"codeSize,omitempty"`
	Temperature float64        `json:"temperature,omitempty"`
	Metrics     map[string]any `json:"metrics,omitempty"`
}

// Load decodes a weights file and prepares its model under name (replacing any model of that name).
func (s *Service) Load(name string, data []byte) (Info, error) {
	f, err := weights.Decode(data)
	if err != nil {
		return Info{}, err
	}
	return s.add(name, f)
}

func (s *Service) add(name string, f *weights.File) (Info, error) {
	t, err := zoo.Load(s.backend, f)
	if err != nil {
		return Info{}, err
	}
	l := &loaded{file: f, ae: t.Autoencoder, clf: t.Classifier}
	s.mu.Lock()
	s.models[name] = l
	s.mu.Unlock()
	return l.info(name), nil
}

func (l *loaded) info(name string) Info {
	id, _ := l.file.ID()
	in := Info{Name: name, Model: l.file.Manifest.Model, ID: id, Params: l.file.NumParams(), Classifier: l.clf != nil, Metrics: map[string]any{}}
	for k, v := range l.file.Manifest.Metrics {
		in.Metrics[k] = v
	}
	if l.clf != nil {
		in.Temperature = l.clf.Temperature
	} else {
		in.CodeSize = l.ae.Config.CodeSize
	}
	return in
}

func (s *Service) get(name string) (*loaded, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.models[name]
	if !ok {
		return nil, fmt.Errorf("no model named %q is loaded", name)
	}
	return l, nil
}

// Weights returns the weights file of a loaded model (for saving it).
func (s *Service) Weights(name string) ([]byte, error) {
	l, err := s.get(name)
	if err != nil {
		return nil, err
	}
	return weights.Marshal(l.file)
}

func checkImages(pixels []float32, n int) error {
	if n < 1 || len(pixels) != n*784 {
		return fmt.Errorf("%d values are not %d images of 28×28", len(pixels), n)
	}
	return nil
}

// Classify returns, for n images [n, 784] in [0, 1], the calibrated class probabilities [n, 10]
// (softmax of the scores divided by the model's fitted temperature).
func (s *Service) Classify(name string, pixels []float32, n int) ([]float64, error) {
	l, err := s.get(name)
	if err != nil {
		return nil, err
	}
	if l.clf == nil {
		return nil, fmt.Errorf("%q is a %s, not a classifier", name, l.file.Manifest.Model)
	}
	if err := checkImages(pixels, n); err != nil {
		return nil, err
	}
	logits, err := l.clf.Logits(&training.Data{Images: pixels, Labels: make([]int32, n), N: n}, n)
	if err != nil {
		return nil, err
	}
	probs := make([]float64, n*10)
	for i := range n {
		logits.Probabilities(i, l.clf.Temperature, probs[i*10:(i+1)*10])
	}
	return probs, nil
}

func (s *Service) autoencoder(name string) (*evaluate.Autoencoder, error) {
	l, err := s.get(name)
	if err != nil {
		return nil, err
	}
	if l.ae == nil {
		return nil, fmt.Errorf("%q is a %s, not an autoencoder", name, l.file.Manifest.Model)
	}
	return l.ae, nil
}

// Reconstruct runs an autoencoder on n images (for the denoising AE: its denoised output of the
// images as given, which the caller may have corrupted).
func (s *Service) Reconstruct(name string, pixels []float32, n int) ([]float32, error) {
	ae, err := s.autoencoder(name)
	if err != nil {
		return nil, err
	}
	if err := checkImages(pixels, n); err != nil {
		return nil, err
	}
	codes, err := ae.Encode(pixels, n)
	if err != nil {
		return nil, err
	}
	return ae.Decode(codes, n)
}

// Encode returns the codes [n, CodeSize] of n images (the VAE: its latent means).
func (s *Service) Encode(name string, pixels []float32, n int) ([]float32, error) {
	ae, err := s.autoencoder(name)
	if err != nil {
		return nil, err
	}
	if err := checkImages(pixels, n); err != nil {
		return nil, err
	}
	return ae.Encode(pixels, n)
}

// Decode returns the images [n, 784] an autoencoder's decoder makes of n codes.
func (s *Service) Decode(name string, codes []float32, n int) ([]float32, error) {
	ae, err := s.autoencoder(name)
	if err != nil {
		return nil, err
	}
	if n < 1 || len(codes) != n*ae.Config.CodeSize {
		return nil, fmt.Errorf("%d values are not %d codes of %d", len(codes), n, ae.Config.CodeSize)
	}
	return ae.Decode(codes, n)
}

// Model describes a registry model to a host.
type Model struct {
	Name    string   `json:"name"`
	Family  string   `json:"family"`
	Summary string   `json:"summary"`
	Sizes   []string `json:"sizes,omitempty"`
	Train   bool     `json:"train"` // Train accepts it
}

// Models lists the registry.
func Models() []Model {
	var out []Model
	for _, m := range zoo.Models() {
		out = append(out, Model{Name: m.Name, Family: string(m.Family), Summary: m.Summary, Sizes: m.Sizes, Train: m.Browser})
	}
	return out
}

// BrowserModels lists the models Train accepts.
func BrowserModels() []string {
	var names []string
	for _, m := range zoo.Models() {
		if m.Browser {
			names = append(names, m.Name)
		}
	}
	return names
}

// Stop asks a running Train to end after its current step.
func (s *Service) Stop() { s.stop.Store(true) }
