package webgpu

import (
	"fmt"
	"math/bits"
	"strings"
)

// The kernels are WGSL generated per op, types and shape: dims, strides and offsets are literals in
// the source and index arithmetic is straight-line code. A first version read them from a parameter
// block in loops, one pipeline per op for every shape; on SwiftShader (WebGPU on the CPU, what
// headless Chromium has here) its integer divisions and loops made an im2col Gather run at 7M
// values/s. With literals, a division by a power of two is a shift and any other one a float
// multiply by the reciprocal with an exact integer correction (divc), which vectorises. A training
// graph then compiles one pipeline per distinct kernel (about a hundred for the tiny CNN), once.
//
// Each invocation computes one output value (a 4×4 block for matrix products), 64 to a workgroup;
// more than 65,535 workgroups spill into the grid's y dimension. p[0], the last binding, is the
// number of invocations.

const workgroupSize = 64

// divcHelper divides r < 2²⁴ by d through inv ≈ 1/d in float32: the estimate is within one of the
// quotient, and the two comparisons make it exact.
const divcHelper = `
fn divc(r: u32, d: u32, inv: f32) -> u32 {
  var q = u32(f32(r) * inv);
  if (q * d > r) { q -= 1u; } else if ((q + 1u) * d <= r) { q += 1u; }
  return q;
}
`

// kernelSource assembles a kernel: the output binding (atomic for scatter-adds), one read binding per
// input type, the parameter block, helper functions and the body, which sees the invocation index i.
func kernelSource(outType string, inTypes []string, helpers, body string) string {
	return kernelSourceWrites(outType, nil, inTypes, helpers, body)
}

// kernelSourceWrites is kernelSource with more outputs (out1, out2, …), bound after out.
func kernelSourceWrites(outType string, writeTypes, inTypes []string, helpers, body string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "@group(0) @binding(0) var<storage, read_write> out: array<%s>;\n", outType)
	for k, t := range writeTypes {
		fmt.Fprintf(&s, "@group(0) @binding(%d) var<storage, read_write> out%d: array<%s>;\n", k+1, k+1, t)
	}
	w := len(writeTypes)
	for k, t := range inTypes {
		fmt.Fprintf(&s, "@group(0) @binding(%d) var<storage, read> in%d: array<%s>;\n", w+k+1, k, t)
	}
	fmt.Fprintf(&s, "@group(0) @binding(%d) var<storage, read> p: array<u32>;\n", w+len(inTypes)+1)
	s.WriteString(divcHelper)
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

// div is the WGSL of r / d for r < limit.
func div(r string, d, limit int) string {
	switch {
	case d == 1:
		return r
	case d&(d-1) == 0:
		return fmt.Sprintf("(%s >> %du)", r, bits.TrailingZeros(uint(d)))
	case limit <= 1<<24:
		return fmt.Sprintf("divc(%s, %du, %s)", r, d, f32Literal(1/float64(d)))
	}
	return fmt.Sprintf("(%s / %du)", r, d)
}

func f32Literal(v float64) string {
	return fmt.Sprintf("%.9ef", float32(v))
}

// mergeDims drops dims of size 1 and merges an axis into the next where every stride list walks the
// two as one (the outer stride is the inner one times the inner dim): a transpose that keeps blocks
// of axes together, or a broadcast along several leading axes, indexes over fewer dims.
func mergeDims(dims []int, lists [][]int) ([]int, [][]int) {
	var md []int
	ml := make([][]int, len(lists))
	for d, dim := range dims {
		if dim == 1 {
			continue
		}
		if last := len(md) - 1; last >= 0 {
			merge := true
			for k, l := range lists {
				if ml[k][last] != l[d]*dim {
					merge = false
					break
				}
			}
			if merge {
				md[last] *= dim
				for k, l := range lists {
					ml[k][last] = l[d]
				}
				continue
			}
		}
		md = append(md, dim)
		for k, l := range lists {
			ml[k] = append(ml[k], l[d])
		}
	}
	return md, ml
}

// coordinates emits WGSL that splits idx (< total) over dims, row-major, into let-bound coordinates
// named prefix0, prefix1, … and returns their names.
func coordinates(b *strings.Builder, idx, prefix string, dims []int, total int) []string {
	names := make([]string, len(dims))
	r := idx
	for d := len(dims) - 1; d >= 0; d-- {
		names[d] = fmt.Sprintf("%s%d", prefix, d)
		if d == 0 {
			fmt.Fprintf(b, "  let %s = %s;\n", names[d], r)
			break
		}
		q := fmt.Sprintf("%sq%d", prefix, d)
		fmt.Fprintf(b, "  let %s = %s;\n", q, div(r, dims[d], total))
		fmt.Fprintf(b, "  let %s = %s - %s * %du;\n", names[d], r, q, dims[d])
		r = q
	}
	return names
}

// linear is the WGSL of offset + Σ coordinate·stride.
func linear(coords []string, strides []int, offset int) string {
	terms := []string{fmt.Sprintf("%du", offset)}
	for d, s := range strides {
		switch s {
		case 0:
		case 1:
			terms = append(terms, coords[d])
		default:
			terms = append(terms, fmt.Sprintf("%s * %du", coords[d], s))
		}
	}
	if len(terms) > 1 && offset == 0 {
		terms = terms[1:]
	}
	return strings.Join(terms, " + ")
}

// stridedIndices emits the coordinates of i over dims and one let-bound index per stride list
// (named name0, name1, …), merging dims first.
func stridedIndices(b *strings.Builder, name string, dims []int, lists [][]int, offsets []int) []string {
	md, ml := mergeDims(dims, lists)
	coords := coordinates(b, "i", "c", md, product(dims))
	out := make([]string, len(lists))
	for k := range lists {
		out[k] = fmt.Sprintf("%s%d", name, k)
		fmt.Fprintf(b, "  let %s = %s;\n", out[k], linear(coords, ml[k], offsets[k]))
	}
	return out
}

// operand modes: how an element-wise kernel reads an operand for output index i.
type mode int

const (
	same    mode = iota // operand has the output's shape: in[i]
	scalar              // one value for all: in[0]
	general             // broadcast along some axes: in[Σ coordinate·stride]
)

// elementwise is out[i] = expr over operands (named in the expression as x, y, z), each read
// according to its mode; general operands are read at their strides over the output's dims.
type elementwise struct {
	expr    string
	outType string
	inTypes []string
	modes   []mode
	strides [][]int // per operand in general mode: its strides over the output's dims
	dims    []int   // the output's
}

func (e elementwise) source() string {
	names := []string{"x", "y", "z"}
	var body strings.Builder
	var lists [][]int
	for k, m := range e.modes {
		if m == general {
			lists = append(lists, e.strides[k])
		}
	}
	var idx []string
	if len(lists) > 0 {
		idx = stridedIndices(&body, "g", e.dims, lists, make([]int, len(lists)))
	}
	g := 0
	for k, m := range e.modes {
		switch m {
		case same:
			fmt.Fprintf(&body, "  let %s = in%d[i];\n", names[k], k)
		case scalar:
			fmt.Fprintf(&body, "  let %s = in%d[0];\n", names[k], k)
		case general:
			fmt.Fprintf(&body, "  let %s = in%d[%s];\n", names[k], k, idx[g])
			g++
		}
	}
	fmt.Fprintf(&body, "  out[i] = %s;", e.expr)
	return kernelSource(e.outType, e.inTypes, "", body.String())
}

// copyReadSource: out[i] = in0[offset + Σ coordinate·stride] (transpose, broadcast, slice).
func copyReadSource(t string, dims, strides []int, offset int) string {
	var b strings.Builder
	idx := stridedIndices(&b, "r", dims, [][]int{strides}, []int{offset})
	fmt.Fprintf(&b, "  out[i] = in0[%s];", idx[0])
	return kernelSource(t, []string{t}, "", b.String())
}

// copyWriteSource: out[offset + Σ coordinate·stride] = in0[i] (one operand of a concatenation).
func copyWriteSource(t string, dims, strides []int, offset int) string {
	var b strings.Builder
	idx := stridedIndices(&b, "w", dims, [][]int{strides}, []int{offset})
	fmt.Fprintf(&b, "  out[%s] = in0[i];", idx[0])
	return kernelSource(t, []string{t}, "", b.String())
}

// concatSource joins operands along an axis in one pass over the output: with the output seen as
// [outer, axis, inner], value (o, a, j) comes from the operand whose range along the axis holds a.
func concatSource(t string, operands, outer, axis, inner int, dims []int) string {
	var b strings.Builder
	c := coordinates(&b, "i", "c", []int{outer, axis, inner}, outer*axis*inner)
	at := 0
	for k, d := range dims {
		var cond string // if (a < end0) {…} else if (a < end1) {…} … else {…}
		switch {
		case k == len(dims)-1 && k > 0:
			cond = "else "
		case k == len(dims)-1:
		case k > 0:
			cond = fmt.Sprintf("else if (%s < %du) ", c[1], at+d)
		default:
			cond = fmt.Sprintf("if (%s < %du) ", c[1], at+d)
		}
		fmt.Fprintf(&b, "  %s{ out[i] = in%d[%s * %du + (%s - %du) * %du + %s]; }\n", cond, k, c[0], d*inner, c[1], at, inner, c[2])
		at += d
	}
	types := make([]string, operands)
	for k := range types {
		types[k] = t
	}
	return kernelSource(t, types, "", b.String())
}

// iotaSource: out[i] = the coordinate of i along an axis of the given stride and dim.
func iotaSource(t string, stride, dim, total int) string {
	q := div("i", stride, total)
	return kernelSource(t, nil, "", fmt.Sprintf("  let q = %s;\n  out[i] = %s(q - %s * %du);", q, t, div("q", dim, total), dim))
}

// nestedLoops emits loops over dims (j0 outermost) around body, which sees the index expression
// base + Σ j·stride as `at`.
func nestedLoops(b *strings.Builder, base string, dims, strides []int, body func(at string)) {
	at := base
	for d := range dims {
		fmt.Fprintf(b, "  for (var j%d = 0u; j%d < %du; j%d++) {\n", d, d, dims[d], d)
		at += fmt.Sprintf(" + j%d * %du", d, strides[d])
	}
	body(at)
	for range dims {
		b.WriteString("  }\n")
	}
}

// reduceSource folds the reduced axes (adjacent ones merged) of one output value, kept axes at their
// input strides.
func reduceSource(t, init, combine string, keptDims, keptStrides, redDims, redStrides []int) string {
	var b strings.Builder
	base := "0u"
	if len(keptDims) > 0 {
		base = stridedIndices(&b, "k", keptDims, [][]int{keptStrides}, []int{0})[0]
	}
	fmt.Fprintf(&b, "  var acc: %s = %s;\n", t, init)
	nestedLoops(&b, base, redDims, redStrides, func(at string) {
		fmt.Fprintf(&b, "  let v = in0[%s];\n  acc = %s;\n", at, combine)
	})
	b.WriteString("  out[i] = acc;")
	return kernelSource(t, []string{t}, "", b.String())
}

// argSource is the index of the first extreme value along an axis (dim, stride).
func argSource(t, outT, better string, keptDims, keptStrides []int, dim, stride int) string {
	var b strings.Builder
	base := "0u"
	if len(keptDims) > 0 {
		base = stridedIndices(&b, "k", keptDims, [][]int{keptStrides}, []int{0})[0]
	}
	fmt.Fprintf(&b, `  var best = in0[%[1]s];
  var at = 0u;
  for (var j = 1u; j < %[2]du; j++) {
    let v = in0[%[1]s + j * %[3]du];
    if (%[4]s) { best = v; at = j; }
  }
  out[i] = %[5]s(at);`, base, dim, stride, better, outT)
	return kernelSource(outT, []string{t}, "", b.String())
}

// indexing describes a Gather or a scatter: over the iterated dims (the output's, or the updates'),
// each axis steps either the indices (a batch axis) or the operand (a window axis); then each start
// index, read from the indices at vectorStride apart, moves the operand index by operandStride.
type indexing struct {
	dims, indexStrides, operandStrides []int
	vectorStride                       int
	startStrides, maxStarts            []int
}

// indexingCode emits the operand index `ob` for invocation i (gather: starts clamped; scatter: an
// out-of-range start ends the invocation, XLA's rule for scatters).
func indexingCode(b *strings.Builder, ix indexing, clampStarts bool) {
	idx := stridedIndices(b, "x", ix.dims, [][]int{ix.indexStrides, ix.operandStrides}, []int{0, 0})
	fmt.Fprintf(b, "  var ob = %s;\n", idx[1])
	for k := range ix.startStrides {
		fmt.Fprintf(b, "  let s%d = i32(in1[%s + %du]);\n", k, idx[0], k*ix.vectorStride)
		if clampStarts {
			fmt.Fprintf(b, "  ob += u32(clamp(s%d, 0, %d)) * %du;\n", k, ix.maxStarts[k], ix.startStrides[k])
		} else {
			fmt.Fprintf(b, "  if (s%d < 0 || s%d > %d) { return; }\n  ob += u32(s%d) * %du;\n", k, k, ix.maxStarts[k], k, ix.startStrides[k])
		}
	}
}

// gatherSource is XLA's Gather (starts clamped so the slice fits).
func gatherSource(t, idxT string, ix indexing) string {
	var b strings.Builder
	indexingCode(&b, ix, true)
	b.WriteString("  out[i] = in0[ob];")
	return kernelSource(t, []string{t, idxT}, "", b.String())
}

// scatterAddSource adds each update into the output (a copy of the operand, made by the dispatch
// before), atomically: float additions by compare-and-swap on the value's bits, as WGSL has no
// atomic float add.
func scatterAddSource(t, idxT string, ix indexing) string {
	var b strings.Builder
	indexingCode(&b, ix, false)
	b.WriteString("  let v = in0[i];\n")
	if t == "f32" {
		b.WriteString(`  var old = atomicLoad(&out[ob]);
  loop {
    let res = atomicCompareExchangeWeak(&out[ob], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (res.exchanged) { break; }
    old = res.old_value;
  }`)
	} else {
		b.WriteString("  atomicAdd(&out[ob], bitcast<u32>(v));")
	}
	return kernelSource("atomic<u32>", []string{t, idxT}, "", b.String())
}

// matmul multiplies [batch, m, k]·[batch, k, n], each operand read at its layout's strides (in
// place: a transposed or broadcast operand needs no copy): each invocation computes a 4×4 block of
// the output with its accumulators in registers. No workgroup memory or barriers: on SwiftShader a
// barrier suspends every invocation of the workgroup, and a 16×16 shared-memory tiled kernel ran at
// 0.1 GFLOP/s. Loads past the edges are clamped to the last row or column (valid memory, results
// discarded) and stores are unrolled, with bounds checks only where m or n is not a multiple of 4.
// With splits > 1 the contraction is cut into that many chunks of kChunk, each written to its own
// [batch, m, n] slab of the output (summed by a reduction after): a product with few outputs and a
// long contraction (a kernel's gradient, summed over every position of a batch) would otherwise run
// on a handful of invocations.
type matmul struct {
	t            string
	batch, m, n  int
	a, b         layout
	outer, inner contraction // the contraction's loops (inner.size 1: one loop)
	splits       int         // the outer loop cut into splits chunks of chunk steps
	chunk        int
}

func (mm matmul) source() string {
	t, batch, m, n := mm.t, mm.batch, mm.m, mm.n
	splits := max(1, mm.splits)
	mb, nb := (m+3)/4, (n+3)/4
	total := splits * batch * mb * nb
	var b strings.Builder
	fmt.Fprintf(&b, "  let blocks = %s;\n", div("i", nb, total))
	fmt.Fprintf(&b, "  let c0 = (i - blocks * %du) * 4u;\n", nb)
	fmt.Fprintf(&b, "  let slab = %s;\n", div("blocks", mb, total))
	fmt.Fprintf(&b, "  let r0 = (blocks - slab * %du) * 4u;\n", mb)
	if splits > 1 {
		fmt.Fprintf(&b, "  let split = %s;\n  let batch = slab - split * %du;\n", div("slab", batch, total), batch)
		fmt.Fprintf(&b, "  let q0 = split * %du;\n  let q1 = min(q0 + %du, %du);\n", mm.chunk, mm.chunk, mm.outer.size)
	} else {
		fmt.Fprintf(&b, "  let batch = slab;\n  let q0 = 0u;\n  let q1 = %du;\n", mm.outer.size)
	}
	fmt.Fprintf(&b, "  let ab = batch * %du;\n  let bb = batch * %du;\n", mm.a.batch, mm.b.batch)
	for r := range 4 {
		row := fmt.Sprintf("(r0 + %du)", r)
		if m%4 != 0 {
			row = fmt.Sprintf("min(r0 + %du, %du)", r, m-1)
		}
		fmt.Fprintf(&b, "  let a%d = ab + %s * %du;\n", r, row, mm.a.cross)
	}
	for c := range 4 {
		col := fmt.Sprintf("(c0 + %du)", c)
		if n%4 != 0 {
			col = fmt.Sprintf("min(c0 + %du, %du)", c, n-1)
		}
		fmt.Fprintf(&b, "  let b%d = bb + %s * %du;\n", c, col, mm.b.cross)
	}
	// A second contraction loop only where there is one (SwiftShader does not remove a 1-step loop).
	innerOpen, innerA, innerB, innerClose := "", "", "", ""
	if mm.inner.size > 1 {
		innerOpen = fmt.Sprintf("  for (var p2 = 0u; p2 < %du; p2++) {\n", mm.inner.size)
		innerA, innerB, innerClose = fmt.Sprintf(" + p2 * %du", mm.inner.a), fmt.Sprintf(" + p2 * %du", mm.inner.b), "  }\n"
	}
	fmt.Fprintf(&b, `  var acc0 = vec4<%[1]s>();
  var acc1 = vec4<%[1]s>();
  var acc2 = vec4<%[1]s>();
  var acc3 = vec4<%[1]s>();
  for (var q = q0; q < q1; q++) {
%[6]s    let qa = q * %[2]du%[7]s;
    let qb = q * %[3]du%[8]s;
    let bv = vec4<%[1]s>(in1[b0 + qb], in1[b1 + qb], in1[b2 + qb], in1[b3 + qb]);
    acc0 += in0[a0 + qa] * bv;
    acc1 += in0[a1 + qa] * bv;
    acc2 += in0[a2 + qa] * bv;
    acc3 += in0[a3 + qa] * bv;
  }
%[9]s  let ob = slab * %[4]du + r0 * %[5]du + c0;
`, t, mm.outer.a, mm.outer.b, m*n, n, innerOpen, innerA, innerB, innerClose)
	lanes := "xyzw"
	for r := range 4 {
		for c := range 4 {
			var cond []string
			if m%4 != 0 {
				cond = append(cond, fmt.Sprintf("r0 + %du < %du", r, m))
			}
			if n%4 != 0 {
				cond = append(cond, fmt.Sprintf("c0 + %du < %du", c, n))
			}
			store := fmt.Sprintf("out[ob + %du] = acc%d.%c;", r*n+c, r, lanes[c])
			if len(cond) > 0 {
				store = fmt.Sprintf("if (%s) { %s }", strings.Join(cond, " && "), store)
			}
			fmt.Fprintf(&b, "  %s\n", store)
		}
	}
	return kernelSource(t, []string{t, t}, "", b.String())
}

// matmulSplits chooses how many chunks to cut a contraction's outer loop of outer steps into (each
// step inner long), for blocks invocations.
func matmulSplits(blocks, outer, inner int) (splits, chunk int) {
	const enough, minWork = 1024, 64 // invocations that keep the device busy; the least work per one
	k := outer * inner
	if blocks >= enough || k < 2*minWork || outer < 2 {
		return 1, outer
	}
	splits = min((enough+blocks-1)/blocks, k/minWork, outer)
	chunk = (outer + splits - 1) / splits
	return (outer + chunk - 1) / chunk, chunk
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

// window is a ReduceWindow's geometry, per axis.
type window struct {
	outDims, inDims, inStrides, size, strides, dilations, padLow []int
}

// reduceWindowSource folds each output's window (pooling); taps in the padding are skipped.
func reduceWindowSource(t, init, combine string, w window) string {
	var b strings.Builder
	o := coordinates(&b, "i", "o", w.outDims, product(w.outDims))
	fmt.Fprintf(&b, "  var acc: %s = %s;\n", t, init)
	var cond, at []string
	for d := range w.outDims {
		fmt.Fprintf(&b, "  for (var w%d = 0u; w%d < %du; w%d++) {\n", d, d, w.size[d], d)
		fmt.Fprintf(&b, "  let p%d = i32(%s * %du + w%d * %du) - %d;\n", d, o[d], w.strides[d], d, w.dilations[d], w.padLow[d])
		if w.padLow[d] > 0 || (w.outDims[d]-1)*w.strides[d]+(w.size[d]-1)*w.dilations[d] >= w.inDims[d] {
			cond = append(cond, fmt.Sprintf("p%d >= 0 && p%d < %d", d, d, w.inDims[d]))
		}
		at = append(at, fmt.Sprintf("u32(max(p%d, 0)) * %du", d, w.inStrides[d]))
	}
	c := "true"
	if len(cond) > 0 {
		c = strings.Join(cond, " && ")
	}
	fmt.Fprintf(&b, "  if (%s) {\n    let v = in0[%s];\n    acc = %s;\n  }\n", c, strings.Join(at, " + "), combine)
	for range w.outDims {
		b.WriteString("  }\n")
	}
	b.WriteString("  out[i] = acc;")
	return kernelSource(t, []string{t}, "", b.String())
}
