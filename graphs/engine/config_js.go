//go:build js

package engine

// Under js/wasm there is one thread, and simplego's worker pool deadlocks there: an op running in a
// pool goroutine waits for a free slot that only another blocked op could release (seen: DotGeneral
// waiting in workersPool.WaitToStart forever). Sequential execution (parallelism=0) costs nothing on
// one thread.
const defaultConfig = "parallelism=0"
