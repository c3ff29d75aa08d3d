package engine

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// BackendName is the name under which the engine registers itself with GoMLX's backends registry.
// graphs.NewBackend maps the user-facing spec "go" to it; GoMLX's stock pure-Go backend keeps the
// name simplego registered ("go") and is reachable as spec "simplego".
const BackendName = "mzgo"

var installOnce sync.Once

// Install registers the engine with GoMLX's backends and replaces GoMLX's gradients of matrix
// products, convolutions, Pad and Reverse with the engine's formulations (gradients.go), which every
// backend then uses: XLA too, where they run several times faster than the stock ones. It runs once,
// when a backend is opened (New, graphs.NewBackend), not when a package is imported: importing a
// model changes nothing in GoMLX until a host chooses a backend.
func Install() {
	installOnce.Do(func() {
		backends.Register(BackendName, func(config string) (backends.Backend, error) { return New(config) })
		installGradients()
		installed.Store(true)
	})
}

var installed atomic.Bool

// Installed reports whether Install has run.
func Installed() bool { return installed.Load() }

// Backend is GoMLX's simplego backend plus the ops it lacks and faster versions of some it has.
type Backend struct {
	backends.Backend // the wrapped simplego backend: buffers, execution and every op not overridden
	caps             backends.Capabilities
}

// New returns the engine backend. config is passed to simplego (e.g. "parallelism=1").
func New(config string) (*Backend, error) {
	Install()
	if config == "" {
		config = defaultConfig
	}
	inner, err := simplego.New(config)
	if err != nil {
		return nil, fmt.Errorf("pure-Go engine: %w", err)
	}
	if err := admitAllTasks(inner); err != nil {
		return nil, fmt.Errorf("pure-Go engine: %w", err)
	}
	caps := inner.Capabilities().Clone()
	for _, op := range filledOps {
		caps.Operations[op] = true
	}
	return &Backend{Backend: inner, caps: caps}, nil
}

// Name identifies the engine; graph-level gradients check it to use the engine's formulations
// only where they pay off (on XLA the stock gradients are the fast ones).
func (b *Backend) Name() string   { return BackendName }
func (b *Backend) String() string { return BackendName }

func (b *Backend) Description() string {
	return "mnistzip pure-Go engine (GoMLX simplego + im2col convolutions, pooling/padding/batch-norm ops, matmul gradients)"
}

func (b *Backend) Capabilities() backends.Capabilities { return b.caps }

// Builder wraps simplego's builder so the filled-in ops are available to graphs built on this backend.
func (b *Backend) Builder(name string) backends.Builder {
	return &Builder{Builder: b.Backend.Builder(name)}
}

// Builder overrides individual ops of simplego's builder; every other method is simplego's own.
type Builder struct {
	backends.Builder
}

// filledOps are the ops the engine adds to simplego's capabilities.
var filledOps = []backends.OpType{
	backends.OpTypePad,
	backends.OpTypeReverse,
	backends.OpTypeSelectAndScatterMax,
	backends.OpTypeSelectAndScatterMin,
	backends.OpTypeBatchNormForTraining,
	backends.OpTypeBatchNormForInference,
	backends.OpTypeBatchNormGradient,
}

// Lowering wraps another backend's builder in the engine's, so that backend gets the engine's
// lowerings of the composite ops (convolutions as im2col, Pad, Reverse, the MaxPool gradient, batch
// norm) built from the primitive ops it implements itself: the WebGPU backend does.
func Lowering(inner backends.Builder) backends.Builder { return &Builder{Builder: inner} }

// LoweredByEngine is implemented by backends whose builders go through Lowering: their graphs get
// the engine's gradient formulations too (IsEngine).
type LoweredByEngine interface{ LoweredByEngine() bool }

// IsEngine reports whether backend is this engine, or runs the engine's lowerings (LoweredByEngine).
func IsEngine(backend backends.Backend) bool {
	if _, ok := backend.(*Backend); ok {
		return true
	}
	l, ok := backend.(LoweredByEngine)
	return ok && l.LoweredByEngine()
}
