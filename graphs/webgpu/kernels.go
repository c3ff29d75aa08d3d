package webgpu

import (
	"fmt"
	"strings"
)

// The kernels are WGSL templates specialised by op and types only: shapes, strides and offsets come
// in the parameter block (a read-only array<u32>, the last binding, p[0] the number of invocations),
// so one pipeline serves every shape of an op and a training graph compiles a few dozen pipelines,
// not one per node. Each invocation computes one output value, 64 to a workgroup; more than 65,535
// workgroups spill into the grid's y dimension.

const workgroupSize = 64

// kernelSource assembles a kernel: the output binding (atomic for scatter-adds), one read binding per
// input type, the parameter block, helper functions and the body, which sees the invocation index i.
func kernelSource(outType string, inTypes []string, helpers, body string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "@group(0) @binding(0) var<storage, read_write> out: array<%s>;\n", outType)
	for k, t := range inTypes {
		fmt.Fprintf(&s, "@group(0) @binding(%d) var<storage, read> in%d: array<%s>;\n", k+1, k, t)
	}
	fmt.Fprintf(&s, "@group(0) @binding(%d) var<storage, read> p: array<u32>;\n", len(inTypes)+1)
	s.WriteString(helpers)
	fmt.Fprintf(&s, `
@compute @workgroup_size(%d)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * %du;
  if (i >= p[0]) { return; }
%s
}
`, workgroupSize, workgroupSize, body)
	return s.String()
}

// stridedHelper maps the row-major index i over the dims at p[2…2+rank) (rank at p[1]) to
// Σ coordinate·stride with the strides at p[base…base+rank).
const stridedHelper = `
fn strided(i: u32, base: u32) -> u32 {
  var r = i;
  var o = 0u;
  let rank = p[1];
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    o += (r % dim) * p[base + u32(d)];
    r /= dim;
  }
  return o;
}
`

// operand modes: how an element-wise kernel reads an operand for output index i.
type mode int

const (
	same    mode = iota // operand has the output's shape: in[i]
	scalar              // one value for all: in[0]
	general             // broadcast along some axes: in[strided(i, …)]
)

// elementwise is out[i] = expr over operands a, b, c (named in the expression as x, y, z), each read
// according to its mode; for general modes the parameter block holds the output dims and one stride
// list per general operand.
type elementwise struct {
	expr    string
	outType string
	inTypes []string
	modes   []mode
}

func (e elementwise) source() string {
	names := []string{"x", "y", "z"}
	var body strings.Builder
	base := "2u + p[1]" // first stride list after the dims
	needStrided := false
	for k, m := range e.modes {
		switch m {
		case same:
			fmt.Fprintf(&body, "  let %s = in%d[i];\n", names[k], k)
		case scalar:
			fmt.Fprintf(&body, "  let %s = in%d[0];\n", names[k], k)
		case general:
			fmt.Fprintf(&body, "  let %s = in%d[strided(i, %s)];\n", names[k], k, base)
			base += " + p[1]"
			needStrided = true
		}
	}
	fmt.Fprintf(&body, "  out[i] = %s;", e.expr)
	helpers := ""
	if needStrided {
		helpers = stridedHelper
	}
	return kernelSource(e.outType, e.inTypes, helpers, body.String())
}

// copyReadSource: out[i] = in0[offset + strided(i)] (transpose, broadcast, slice); p = [n, rank,
// dims…, strides…, offset].
func copyReadSource(t string) string {
	return kernelSource(t, []string{t}, stridedHelper, "  out[i] = in0[p[2u + 2u * p[1]] + strided(i, 2u + p[1])];")
}

// copyWriteSource: out[offset + strided(i)] = in0[i] (one operand of a concatenation into its place).
func copyWriteSource(t string) string {
	return kernelSource(t, []string{t}, stridedHelper, "  out[p[2u + 2u * p[1]] + strided(i, 2u + p[1])] = in0[i];")
}

// iotaSource: out[i] = the coordinate of i along one axis; p = [n, axisStride, axisDim].
func iotaSource(t string) string {
	return kernelSource(t, nil, "", fmt.Sprintf("  out[i] = %s((i / p[1]) %% p[2]);", t))
}

// reduceSource folds the reduced axes of one output value; p = [n, keptRank, keptDims…,
// keptStrides…, reducedRank, reducedDims…, reducedStrides…, reducedCount] (adjacent axes merged).
func reduceSource(t, init, combine string) string {
	return kernelSource(t, []string{t}, "", fmt.Sprintf(`  let nk = p[1];
  var r = i;
  var base = 0u;
  for (var d = i32(nk) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    base += (r %% dim) * p[2u + nk + u32(d)];
    r /= dim;
  }
  let ro = 2u + 2u * nk;
  let nr = p[ro];
  let total = p[ro + 1u + 2u * nr];
  var acc: %s = %s;
  for (var j = 0u; j < total; j++) {
    var q = j;
    var off = base;
    for (var d = i32(nr) - 1; d >= 0; d--) {
      let dim = p[ro + 1u + u32(d)];
      off += (q %% dim) * p[ro + 1u + nr + u32(d)];
      q /= dim;
    }
    let v = in0[off];
    acc = %s;
  }
  out[i] = acc;`, t, init, combine))
}

// argSource is the index of the first extreme value along one axis; p = [n, keptRank, keptDims…,
// keptStrides…, axisDim, axisStride].
func argSource(t, outT, better string) string {
	return kernelSource(outT, []string{t}, "", fmt.Sprintf(`  let nk = p[1];
  var r = i;
  var base = 0u;
  for (var d = i32(nk) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    base += (r %% dim) * p[2u + nk + u32(d)];
    r /= dim;
  }
  let dim = p[2u + 2u * nk];
  let stride = p[3u + 2u * nk];
  var best = in0[base];
  var at = 0u;
  for (var j = 1u; j < dim; j++) {
    let v = in0[base + j * stride];
    if (%s) { best = v; at = j; }
  }
  out[i] = %s(at);`, better, outT))
}

// gatherSource is XLA's Gather: output coordinates split into batch coordinates (which pick a
// start-index vector) and offsets into the operand's slice; starts are clamped so the slice fits.
// p = [n, rank, dims…, indexStrides…, operandStrides…, starts, vectorStride, (operandStride,
// maxStart) per start].
func gatherSource(t, idxT string) string {
	return kernelSource(t, []string{t, idxT}, "", `  let rank = p[1];
  var r = i;
  var ib = 0u;
  var ob = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    let c = r % dim;
    r /= dim;
    ib += c * p[2u + rank + u32(d)];
    ob += c * p[2u + 2u * rank + u32(d)];
  }
  let so = 2u + 3u * rank;
  let ns = p[so];
  let vs = p[so + 1u];
  for (var k = 0u; k < ns; k++) {
    let s = clamp(i32(in1[ib + k * vs]), 0, i32(p[so + 3u + 2u * k]));
    ob += u32(s) * p[so + 2u + 2u * k];
  }
  out[i] = in0[ob];`)
}

// scatterAddSource adds each update into the output (a copy of the operand, made by the dispatch
// before), atomically: float additions by compare-and-swap on the value's bits, as WGSL has no
// atomic float add. Updates whose window would leave the operand are skipped (XLA's rule). p as for
// gatherSource, over the updates' dims.
func scatterAddSource(t, idxT string) string {
	add := "  atomicAdd(&out[ob], bitcast<u32>(v));"
	if t == "f32" {
		add = `  var old = atomicLoad(&out[ob]);
  loop {
    let res = atomicCompareExchangeWeak(&out[ob], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (res.exchanged) { break; }
    old = res.old_value;
  }`
	}
	return kernelSource("atomic<u32>", []string{t, idxT}, "", `  let rank = p[1];
  var r = i;
  var ib = 0u;
  var ob = 0u;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    let c = r % dim;
    r /= dim;
    ib += c * p[2u + rank + u32(d)];
    ob += c * p[2u + 2u * rank + u32(d)];
  }
  let so = 2u + 3u * rank;
  let ns = p[so];
  let vs = p[so + 1u];
  for (var k = 0u; k < ns; k++) {
    let s = i32(in1[ib + k * vs]);
    if (s < 0 || s > i32(p[so + 3u + 2u * k])) { return; }
    ob += u32(s) * p[so + 2u + 2u * k];
  }
  let v = in0[i];
`+add)
}

// matmulSource multiplies [batch, m, k]·[batch, k, n]: each invocation computes a 4×4 block of the
// output with its accumulators in registers. No workgroup memory or barriers: on SwiftShader (WebGPU
// on the CPU, what headless Chromium has here) a barrier suspends every invocation of the workgroup,
// and a 16×16 shared-memory tiled kernel ran at 0.1 GFLOP/s. Loads past the edges are clamped to
// the last row or column (valid memory, results discarded), so the inner loop has no branches.
// p = [invocations, m, n, k, row blocks, column blocks].
func matmulSource(t string) string {
	return kernelSource(t, []string{t, t}, "", fmt.Sprintf(`  let m = p[1];
  let n = p[2];
  let k = p[3];
  let mb = p[4];
  let nb = p[5];
  let batch = i / (mb * nb);
  let r0 = ((i / nb) %% mb) * 4u;
  let c0 = (i %% nb) * 4u;
  let ab = batch * m * k;
  let bb = batch * k * n;
  let a0 = ab + min(r0, m - 1u) * k;
  let a1 = ab + min(r0 + 1u, m - 1u) * k;
  let a2 = ab + min(r0 + 2u, m - 1u) * k;
  let a3 = ab + min(r0 + 3u, m - 1u) * k;
  let b0 = bb + min(c0, n - 1u);
  let b1 = bb + min(c0 + 1u, n - 1u);
  let b2 = bb + min(c0 + 2u, n - 1u);
  let b3 = bb + min(c0 + 3u, n - 1u);
  var acc0 = vec4<%[1]s>();
  var acc1 = vec4<%[1]s>();
  var acc2 = vec4<%[1]s>();
  var acc3 = vec4<%[1]s>();
  for (var q = 0u; q < k; q++) {
    let row = q * n;
    let bv = vec4<%[1]s>(in1[b0 + row], in1[b1 + row], in1[b2 + row], in1[b3 + row]);
    acc0 += in0[a0 + q] * bv;
    acc1 += in0[a1 + q] * bv;
    acc2 += in0[a2 + q] * bv;
    acc3 += in0[a3 + q] * bv;
  }
  let ob = batch * m * n;
  let rows = array<vec4<%[1]s>, 4>(acc0, acc1, acc2, acc3);
  for (var dr = 0u; dr < 4u; dr++) {
    let r = r0 + dr;
    if (r >= m) { break; }
    for (var dc = 0u; dc < 4u; dc++) {
      if (c0 + dc < n) { out[ob + r * n + c0 + dc] = rows[dr][dc]; }
    }
  }`, t))
}

// pcgHelper is the PCG hash (O'Neill; Jarzynski & Olano 2020): a good 32-bit mix in a few operations.
const pcgHelper = `
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}
`

// rngSource fills out with random 32-bit words: a counter-based generator, the key hashed from the
// six words of the state, the counter the value's index. (Not the engine's stream: a graph's random
// numbers differ between backends, as they do between simplego and XLA.)
func rngSource() string {
	return kernelSource("u32", []string{"u32"}, pcgHelper, `  let key = pcg(in0[0] ^ pcg(in0[1] ^ pcg(in0[2] ^ pcg(in0[3] ^ pcg(in0[4] ^ pcg(in0[5]))))));
  out[i] = pcg(pcg(i ^ key) + key);`)
}

// rngStateSource advances the state: its first 64-bit word counts the calls.
func rngStateSource() string {
	return kernelSource("u32", []string{"u32"}, "", `  let lo = in0[0] + 1u;
  if (i == 0u) { out[0] = lo; } else if (i == 1u) { out[1] = in0[1] + select(0u, 1u, lo == 0u); } else { out[i] = in0[i]; }`)
}

// reduceWindowSource folds each output's window (pooling); taps in the padding are skipped. p = [n,
// rank, outDims…, inDims…, inStrides…, window…, strides…, windowDilations…, padLow…, taps].
func reduceWindowSource(t, init, combine string) string {
	return kernelSource(t, []string{t}, "", fmt.Sprintf(`  let rank = p[1];
  var o: array<u32, 8>;
  var r = i;
  for (var d = i32(rank) - 1; d >= 0; d--) {
    let dim = p[2u + u32(d)];
    o[d] = r %% dim;
    r /= dim;
  }
  var acc: %s = %s;
  let taps = p[2u + 7u * rank];
  for (var j = 0u; j < taps; j++) {
    var q = j;
    var off = 0u;
    var inside = true;
    for (var d = i32(rank) - 1; d >= 0; d--) {
      let ud = u32(d);
      let w = p[2u + 3u * rank + ud];
      let c = i32(o[d] * p[2u + 4u * rank + ud] + (q %% w) * p[2u + 5u * rank + ud]) - i32(p[2u + 6u * rank + ud]);
      q /= w;
      if (c < 0 || c >= i32(p[2u + rank + ud])) { inside = false; }
      off += u32(max(c, 0)) * p[2u + 2u * rank + ud];
    }
    if (inside) {
      let v = in0[off];
      acc = %s;
    }
  }
  out[i] = acc;`, t, init, combine))
}
