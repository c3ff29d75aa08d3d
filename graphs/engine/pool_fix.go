package engine

import (
	"fmt"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/gomlx/gomlx/backends"
)

// simplego (GoMLX v0.26.0) runs independent graph nodes in parallel on a worker pool, and some ops
// (DotGeneral, Erf) split their own work onto the same pool with a blocking WaitToStart. When every
// pool slot is held by a node whose op then waits for a slot, nothing can proceed: a deadlock, seen
// here training the VAE natively (2 CPUs, 4 slots, four small matrix products in flight) and in every
// run under js/wasm (1 CPU). The pool's own escape hatch, extraParallelism (raised by a worker about
// to sleep), is never raised on that path.
//
// admitAllTasks raises extraParallelism once and for all, so WaitToStart never blocks. Ops still
// split their work by MaxParallelism (the CPU count), so the number of goroutines stays bounded by the
// graph's width and the ops' splits. Measured on W2 (go test -bench W2Engine, 2 cores): the stock,
// deadlock-prone schedule 0.56–0.63 s/step; this 0.69–0.76; parallelism=-1 (also deadlock-free, but
// splits every matrix product into up to 256 goroutines) 0.80; ops_sequential 1.05.
// The field is unexported, hence reflection and unsafe; TestPoolNeverBlocks fails if it moves.
func admitAllTasks(simplegoBackend backends.Backend) error {
	v := reflect.ValueOf(simplegoBackend)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("unexpected simplego backend type %T", simplegoBackend)
	}
	workers := v.Elem().FieldByName("workers")
	if !workers.IsValid() {
		return fmt.Errorf("simplego backend has no workers pool (GoMLX version changed?)")
	}
	extra := workers.FieldByName("extraParallelism")
	if !extra.IsValid() || extra.Type() != reflect.TypeOf(atomic.Int32{}) {
		return fmt.Errorf("simplego worker pool has no extraParallelism counter (GoMLX version changed?)")
	}
	counter := (*atomic.Int32)(unsafe.Pointer(extra.UnsafeAddr()))
	counter.Store(1 << 24)
	return nil
}
