package main

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// modelFlags are the flags every command that runs trained weights shares.
type modelFlags struct {
	weights, data string
	backend       backendFlags
}

func (m *modelFlags) add(fs *pflag.FlagSet, weightsHelp string) {
	fs.StringVarP(&m.weights, "weights", "w", "", weightsHelp)
	m.backend.add(fs)
	fs.StringVar(&m.data, "data", mnist.DefaultDir, "MNIST data folder")
}

// check is the parse step's part of them: no positional arguments, --weights given.
func (m modelFlags) check(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if m.weights == "" {
		return usagef("--weights is required")
	}
	return nil
}

// load reads the weights and starts the backend.
func (m modelFlags) load() (*weights.File, backends.Backend, error) {
	f, backend, _, err := m.loadChoice()
	return f, backend, err
}

// loadChoice is load, also saying which backend runs.
func (m modelFlags) loadChoice() (*weights.File, backends.Backend, graphs.Choice, error) {
	f, err := weights.ReadFile(m.weights)
	if err != nil {
		return nil, nil, graphs.Choice{}, err
	}
	backend, choice, err := m.backend.open()
	if err != nil {
		return nil, nil, choice, err
	}
	fmt.Fprintf(stderr, "%s: backend %s\n", f.Manifest.Model, choice)
	return f, backend, choice, nil
}

// loadClassifier prepares the classifier a weights file holds (one line if it holds another model).
func loadClassifier(backend backends.Backend, f *weights.File) (*evaluate.Classifier, error) {
	t, err := loadTrainedClassifier(backend, f)
	if err != nil {
		return nil, err
	}
	return t.Classifier, nil
}

func loadTrainedClassifier(backend backends.Backend, f *weights.File) (*zoo.Trained, error) {
	t, err := zoo.Load(backend, f)
	if err != nil {
		return nil, err
	}
	if t.Classifier == nil {
		return nil, fmt.Errorf("the weights hold %s, an %s, not a classifier", t.Model.Name, t.Model.Family)
	}
	return t, nil
}
