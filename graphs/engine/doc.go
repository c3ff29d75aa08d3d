// Package engine makes GoMLX's pure-Go backend (simplego, v0.26.0) train every model mnistzip has,
// natively and under js/wasm, without changing model code: a model written with plain GoMLX
// (layers.Convolution, MaxPool, batchnorm, Slice, Dot, ...) trains on this engine and on XLA alike.
//
// The engine is a backend ("mzgo"; the CLI's --backend go) that wraps simplego: buffers, execution and
// every op it does not override are simplego's own. graphs.NewBackend("simplego") keeps the stock
// backend reachable for comparisons.
//
// # What GoMLX v0.26.0 lacks, and how each gap is filled
//
// Delete the corresponding piece when upstream catches up; the op tests (float64, against naive loops
// and finite differences) tell whether upstream's version is correct.
//
//   - Convolution gradients: stock GoMLX differentiates a convolution into convolutions with a
//     reversed kernel (simplego has no Reverse) and, for strides, input dilation. The engine gives
//     ConvGeneral an im2col implementation (conv.go: one Gather of image patches through a window
//     table computed at graph-build time, one DotGeneral) and registers a gradient (convgrad.go)
//     that reuses the same table: dKernel and dPatches are matrix products, dInput is the ScatterSum
//     adjoint of the Gather. No multiplications by inserted zeros. Grouped convolutions fall back
//     to simplego's direct loops (no model here uses them).
//   - simplego's ConvGeneral forward runs direct loops at ~0.25 GFLOP/s; the im2col version runs at
//     75–86% of simplego's matrix-product speed (make bench, "Ops" table).
//   - Layers with fewer output than input channels at stride 1 (DenseNet's k = 12 maps out of 24–90)
//     run multiply-first instead (windowTable.multiplyFirst): one product of every input position with
//     all window taps, then one Gather of the taps each output sums. The products cost what im2col's
//     do, the gathered data shrinks by channels/outChannels, and the gradient needs no ScatterSum: each
//     (input, tap) pair feeds one output, so dz is a Gather of dy through the inverse table. Kernel
//     gradients split their rows into batch groups so simplego's small-product kernel, parallel only
//     over batch, uses every core. A DenseNet small training step: 2.1× faster.
//   - Reverse, Pad (edge, negative and interior padding), SelectAndScatterMax/Min (the MaxPool
//     gradient) and BatchNormForTraining/ForInference/Gradient are missing from simplego: filled in
//     by composing simplego ops (pad.go, pool.go, batchnorm.go). Pad and Reverse also lack a gradient
//     in GoMLX on every backend: added in gradients.go.
//   - Matrix-product gradients: GoMLX builds them as a broadcast Mul of shape [batch, lhsCross,
//     rhsCross, contracted] plus a ReduceSum, ~10× slower than a matrix product on simplego. The
//     engine's gradients of Dot and DotGeneral are themselves DotGenerals (gradients.go); on other
//     backends GoMLX's own gradients stay in place.
//   - Transposed convolution and depth-to-space do not exist in GoMLX: graphs/nn builds them from
//     plain graph ops (so they run on XLA too).
//   - simplego's worker pool can deadlock when several parallel ops split their own work (always on
//     js/wasm, and natively for wide graphs of small matrix products): pool_fix.go.
//   - GoMLX's Gather shape inference checks indexVectorAxis against the operand's rank instead of the
//     indices' rank; pool.go shapes its indices to avoid the check.
//
// Op parameters that GoMLX keeps unexported (axes of a DotGeneral, a convolution's strides, a Pad's
// configuration) are read by reflection; TestReflectedParams and the gradient tests fail loudly if a
// GoMLX upgrade renames them.
package engine
