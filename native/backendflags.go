package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
)

// backendFlags are --backend and --pjrt-plugin, shared by every command that runs a model.
type backendFlags struct {
	spec, plugin string
}

func (b *backendFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&b.spec, "backend", "auto", "backend: "+graphs.BackendSpecs)
	fs.StringVar(&b.plugin, "pjrt-plugin", "", "XLA: use this PJRT plugin file (e.g. the xla_cuda_plugin.so of JAX's CUDA package); implies --backend xla")
}

// open starts the backend the flags name.
func (b backendFlags) open() (backends.Backend, graphs.Choice, error) {
	spec := b.spec
	if b.plugin != "" {
		if spec != "auto" && !strings.HasPrefix(spec, "xla") {
			return nil, graphs.Choice{}, usagef("--pjrt-plugin needs an XLA backend, not --backend %s", spec)
		}
		abs, err := filepath.Abs(b.plugin)
		if err != nil {
			return nil, graphs.Choice{}, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, graphs.Choice{}, usagef("--pjrt-plugin %s: %v", b.plugin, err)
		}
		spec = "xla:" + abs
	}
	return graphs.NewBackend(spec)
}
