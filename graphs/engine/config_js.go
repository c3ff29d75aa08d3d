//go:build js

package engine

// Under js/wasm there is one thread: simplego's inter-op parallelism only adds scheduling overhead,
// so ops run in sequence (and intra-op splits run inline).
const defaultConfig = "ops_sequential"
