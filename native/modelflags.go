package main

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// modelFlags are the flags every command that runs trained weights shares.
type modelFlags struct {
	weights, data *string
	backend       backendFlags
}

func addModelFlags(fs *pflag.FlagSet, weightsHelp string) modelFlags {
	return modelFlags{
		weights: fs.StringP("weights", "w", "", weightsHelp),
		backend: addBackendFlags(fs),
		data:    fs.String("data", mnist.DefaultDir, "MNIST data folder"),
	}
}

// load checks the call (no positional arguments, --weights given), reads the weights and starts the
// backend.
func (m modelFlags) load(args []string) (*weights.File, backends.Backend, error) {
	if len(args) > 0 {
		return nil, nil, usagef("unexpected argument %q", args[0])
	}
	if *m.weights == "" {
		return nil, nil, usagef("--weights is required")
	}
	f, err := weights.ReadFile(*m.weights)
	if err != nil {
		return nil, nil, err
	}
	backend, choice, err := m.backend.open()
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(stderr, "%s: backend %s\n", f.Manifest.Model, choice)
	return f, backend, nil
}
