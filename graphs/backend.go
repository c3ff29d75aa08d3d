package graphs

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // stock pure-Go backend, kept selectable as "simplego" for comparisons

	"github.com/mnistzip/mnistzip/graphs/engine"
)

// Choice describes which backend a spec resolved to, so hosts can tell the user what runs.
type Choice struct {
	Spec    string // what was asked for: "auto", "go", "xla:cuda", ...
	Backend string // what runs: "go" (mnistzip pure-Go engine), "simplego" (stock), "xla:<plugin>"
	Reason  string // why auto chose it, empty otherwise
}

func (c Choice) String() string {
	if c.Reason == "" {
		return c.Backend
	}
	return c.Backend + " (" + c.Reason + ")"
}

// XLAPluginDirEnv names extra folders (colon-separated) searched for PJRT plugins after go-xla's own
// (PJRT_PLUGIN_LIBRARY_PATH, ~/.local/lib/go-xla, /usr/local/lib/go-xla, the system library path).
const XLAPluginDirEnv = "MNISTZIP_XLA_DIR"

// BackendSpecs lists the accepted specs, for help texts.
const BackendSpecs = `auto | go | simplego | xla:cpu | xla:cuda | xla:/path/to/pjrt_plugin.so`

// BitExactBackend is the only backend the codec and the browser run models on: the pure-Go engine,
// never XLA, whatever is installed. A lossy .mz file (and one coded with autoencoder hints) stores the
// SHA-256 of the digits its decoder will reconstruct, so the decoder must compute them to the bit as
// the encoder did, on another machine or in a browser. XLA's float results change with the CPU, the
// plugin version, its fusion and threading decisions; the engine's do not change with what plugins a
// machine has. The native codec and the wasm host take their backend from here and offer no choice.
func BitExactBackend() (backends.Backend, Choice, error) {
	b, err := engine.New("")
	return b, Choice{Spec: "go", Backend: "go", Reason: "codec and browser: bit-identical outputs"}, err
}

// NewBackend returns a GoMLX backend for spec; every host (CLI, wasm, tests) goes through it.
//
//   - "auto" (or ""): XLA when a PJRT plugin is already installed on this machine (CUDA first), otherwise
//     the pure-Go engine. It never downloads anything: GoMLX's own default would try to fetch the PJRT CPU
//     plugin from GitHub and fail offline without falling back.
//   - "go": the pure-Go engine of graphs/engine (stock simplego plus the ops and gradients it lacks).
//   - "simplego": GoMLX's stock pure-Go backend, unpatched (for benchmarks; it cannot train convolutions).
//   - "xla:cpu", "xla:cuda", "xla:NAME" or "xla:/abs/path/plugin.so": that PJRT plugin, or a clear error
//     saying how to install one.
func NewBackend(spec string) (b backends.Backend, choice Choice, err error) {
	engine.Install() // the engine's gradients, on every backend
	spec = strings.TrimSpace(spec)
	choice.Spec = spec
	defer func() {
		// GoMLX reports many failures by panicking; hosts get an error instead.
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", spec, r)
		}
	}()
	switch {
	case spec == "" || spec == "auto":
		choice.Spec = "auto"
		// Every installed plugin in turn (cuda, cpu, others): one that is present but does not load (a
		// CUDA plugin on a machine without a GPU) must not keep auto from the next, nor make it fail.
		names, paths := installedXLAPluginsInOrder()
		var failures []string
		for _, name := range names {
			b, err = newXLA(name)
			if err == nil {
				choice.Backend = "xla:" + name
				choice.Reason = "PJRT plugin found at " + paths[name]
				return b, choice, nil
			}
			failures = append(failures, fmt.Sprintf("PJRT plugin %s did not load: %v", paths[name], err))
		}
		if len(failures) > 0 {
			choice.Reason = strings.Join(failures, "; ")
		} else {
			choice.Reason = "no PJRT plugin installed"
		}
		b, err = engine.New("")
		choice.Backend = "go"
		return b, choice, err
	case spec == "go" || strings.HasPrefix(spec, "go:"):
		b, err = engine.New(strings.TrimPrefix(strings.TrimPrefix(spec, "go"), ":"))
		choice.Backend = "go"
		return b, choice, err
	case spec == "simplego":
		b, err = backends.NewWithConfig("go")
		choice.Backend = "simplego"
		return b, choice, err
	case spec == "xla" || strings.HasPrefix(spec, "xla:"):
		plugin := strings.TrimPrefix(strings.TrimPrefix(spec, "xla"), ":")
		b, err = newXLA(plugin)
		if err != nil {
			return nil, choice, err
		}
		choice.Backend = "xla:" + b.Name()
		if plugin != "" {
			choice.Backend = "xla:" + plugin
		}
		return b, choice, nil
	default:
		return nil, choice, fmt.Errorf("unknown backend %q: want %s", spec, BackendSpecs)
	}
}
