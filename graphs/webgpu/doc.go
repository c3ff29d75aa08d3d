// Package webgpu is a GoMLX backend ("webgpu") that runs graphs on the browser's GPU: every value a
// WGSL compute kernel, dispatched through WebGPU from the Go wasm (syscall/js). No WebGPU binding for
// Go is served by the module proxy here (cogentcore/webgpu, go-webgpu: refused), so the thin binding
// it needs (device_js.go, exec_js.go) is written in the project.
//
// # How a graph runs
//
//   - builder.go records the graph: one node per value, shapes from GoMLX's shapeinference, and for
//     each node the dispatches that compute it (kernels.go: WGSL templates specialised by op and
//     types; shapes, strides and offsets travel in a parameter block, so a training step compiles a
//     few dozen pipelines, not one per node). Reshape and Identity are views of their input.
//   - Composite ops are not here: the backend's builder is wrapped in the pure-Go engine's
//     (engine.Lowering), which lowers convolutions to im2col Gathers and products, and Pad, Reverse,
//     the MaxPool gradient and batch norm to primitive ops. The backend reports LoweredByEngine, so
//     GoMLX's gradients are the engine's formulations too: both backends run the same graphs.
//   - Compile (exec_js.go) allocates a GPU buffer per live value, uploads constants and parameter
//     blocks and creates every bind group once; Execute copies the inputs into their buffers, encodes
//     all dispatches in one compute pass (one call from Go) and copies the outputs into fresh buffers,
//     without waiting: tensors stay on the GPU between steps, and only a read (a loss, a prediction)
//     waits for the queue.
//   - A scatter-add through constant indices (a convolution's input gradient) is a gather-sum over a
//     CSR table built at graph-build time (tables.go): no atomics, deterministic.
//   - WGSL has 32-bit types only: dtypes.go says how each GoMLX dtype is held.
//
// # How it is checked
//
// selftest.go runs each op and composition on this backend and on the engine with the same random
// inputs, checks gradients by finite differences on this backend alone, and selftest_train.go trains
// the page's CNN on it and classifies test digits on both; the wasm's gpuCheck runs them in the page
// and native/browser_test.go asserts them in headless Chromium (SwiftShader: WebGPU on the CPU).
// Natively, builder_test.go builds every model's training step on the backend (no device: it stops at
// Compile), so a missing op fails `go test`.
//
// WebGPU is asynchronous (promises); the binding waits on them from a goroutine, so its calls must not
// run inside a synchronous JavaScript-to-Go callback (the wasm host runs them in a Promise).
package webgpu
