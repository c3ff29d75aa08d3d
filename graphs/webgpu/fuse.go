package webgpu

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/backends"
)

// Fusion. A training step of the tiny CNN had ~330 dispatches, most of them element-wise ops, each
// reading its operands from memory and writing its result back (Adam's update of one parameter was
// ~15 of them). So, at compile time, element-wise ops are computed inside their consumer's kernel
// where they can be:
//   - a value read only by one element-wise consumer, over the same index, becomes registers;
//   - a single value (a scalar) read by several is recomputed in each (a few flops);
//   - a value also read later (a graph output, as Adam's moments are) is computed in the kernel and
//     also stored from it, when every other reader runs after that kernel.
// What it saves is memory traffic and kernel launches, not dispatch overhead, which is small:
// DispatchCost measures 0.04 ms per extra dispatch on SwiftShader. Fusion and shape-specialised
// kernels together took the step from 534 to ~150 ms; the 98 dispatches left cost ~4 ms of it.
// A chain of element-wise ops, Adam's whole update of one parameter, becomes one kernel.

// DefaultStorageBuffers is what WebGPU guarantees per shader stage: 8 storage buffers. A kernel binds
// its output and its parameter block; fusion uses what is left for the values it reads and the extra
// values it stores, up to the device's limit (Open asks the adapter for its most).
const DefaultStorageBuffers = 8

// maxFusedInputs bounds the operands of one Concatenate pass (any device has room for them).
const maxFusedInputs = DefaultStorageBuffers - 2

// plan is what Compile builds: the nodes that get a buffer, in graph order, and their dispatches.
type plan struct {
	order      []*node
	dispatches map[*node][]dispatch
	fused      int // nodes computed inside another node's kernel
	// static nodes depend on constants only (iota grids, the im2col tables, broadcast fill values):
	// their dispatches run once, when the graph is compiled, not on every execution.
	static map[*node]bool
}

// leaf is a value a fused kernel reads from a buffer.
type leaf struct {
	n       *node
	mode    mode
	strides []int
	typ     string
}

// fusion is one fused kernel being assembled.
type fusion struct {
	root    *node
	members []*node            // the nodes it computes
	args    map[*node][]string // per member, the WGSL of each operand
	leaves  []leaf
	exports []*node // members also stored to their own buffers
}

// planner holds what fusion decides with.
type planner struct {
	readers  map[*node][]int // ids of the nodes whose kernels read a value (len(nodes) for an output)
	static   map[*node]bool
	fused    map[*node]bool // computed inside another kernel: no buffer of its own
	exported map[*node]*node
	journal  []*node // nodes marked fused, in order, for undoing an attempt
	// maxBuffers is what a kernel may bind besides its output and parameter block.
	maxBuffers int
}

func makePlan(b *Builder, outputs []*node, maxBuffers int) *plan {
	live := map[*node]bool{}
	var mark func(n *node)
	mark = func(n *node) {
		if live[n] {
			return
		}
		live[n] = true
		for _, in := range n.inputs {
			mark(in)
		}
		for _, d := range n.dispatches {
			for _, r := range d.reads {
				mark(r)
			}
		}
	}
	for _, o := range outputs {
		mark(o)
	}
	pl := &planner{maxBuffers: maxBuffers - 2, readers: map[*node][]int{}, static: map[*node]bool{}, fused: map[*node]bool{}, exported: map[*node]*node{}}
	for _, n := range b.nodes { // inputs come before the nodes that use them
		static := n.param < 0 && n.op != backends.OpTypeRNGBitGenerator
		for _, in := range n.inputs {
			static = static && pl.static[in]
		}
		for _, d := range n.dispatches {
			for _, r := range d.reads {
				static = static && pl.static[r.storage()]
				if live[n] {
					pl.readers[r.storage()] = append(pl.readers[r.storage()], n.id)
				}
			}
		}
		pl.static[n] = static
	}
	for _, o := range outputs {
		pl.readers[o.storage()] = append(pl.readers[o.storage()], len(b.nodes), len(b.nodes)) // an output keeps a buffer
	}
	p := &plan{dispatches: map[*node][]dispatch{}, static: pl.static}
	for i := len(b.nodes) - 1; i >= 0; i-- { // consumers before producers
		n := b.nodes[i]
		if !live[n] || n.ew == nil || pl.fused[n] {
			continue
		}
		f := &fusion{root: n, args: map[*node][]string{}}
		pl.add(f, n, 0, false, false)
		if len(f.members) > 1 {
			p.dispatches[n] = []dispatch{f.dispatch()}
		}
	}
	for _, n := range b.nodes {
		if live[n] && n.alias == nil && !pl.fused[n] {
			if _, ok := p.dispatches[n]; !ok {
				p.dispatches[n] = n.dispatches
			}
		}
	}
	// Keep what the outputs still reach: views and scalars every reader inlined drop out.
	needed := map[*node]bool{}
	var need func(n *node)
	need = func(n *node) {
		n = n.storage()
		if needed[n] {
			return
		}
		needed[n] = true
		if root := pl.exported[n]; root != nil {
			need(root)
		}
		for _, d := range p.dispatches[n] {
			for _, r := range append(d.reads, d.writes...) {
				need(r)
			}
		}
	}
	for _, o := range outputs {
		need(o)
	}
	for _, n := range b.nodes {
		if needed[n] && n.alias == nil {
			p.order = append(p.order, n)
			if pl.fused[n] {
				p.fused++ // exported: stored by its consumer's kernel
			}
		} else {
			if live[n] && pl.fused[n] {
				p.fused++
			}
			delete(p.dispatches, n)
		}
	}
	return p
}

// add puts x in f's kernel: each operand either computed in it (recursively) or read as a leaf.
// reserve is the number of buffers the operands still to visit above x may need. atZero: x is one
// value its consumer reads as a scalar (Adam's 1 − β), so everything under it is read at index 0.
// dup: x is a single value recomputed here though other kernels read it too: nothing under it may
// be marked fused (its own kernel may still be needed).
func (pl *planner) add(f *fusion, x *node, reserve int, atZero, dup bool) {
	e := x.ew
	args := make([]string, len(x.inputs))
	for k, o := range x.inputs {
		remaining := reserve + len(x.inputs) - k - 1
		if lit, ok := literal(o); ok && (atZero || e.modes[k] != general) {
			args[k] = lit // a single constant: in the source, no buffer
			continue
		}
		if pl.tryFuse(f, x, k, o, remaining, atZero, dup) {
			args[k] = fmt.Sprintf("v%d", o.id)
			continue
		}
		if atZero {
			args[k] = f.leafRead(leaf{n: o, mode: scalar, typ: e.inTypes[k]})
			continue
		}
		if v := o.view; v != nil && v.offset == 0 && e.modes[k] == same && o.shape.Size() == x.shape.Size() {
			// A transpose or broadcast read through: its source, at the view's strides.
			l := leaf{n: v.src, mode: general, strides: v.strides, typ: e.inTypes[k]}
			if v.src.shape.Size() == 1 {
				if lit, ok := literal(v.src); ok {
					args[k] = lit
					continue
				}
				l = leaf{n: v.src, mode: scalar, typ: e.inTypes[k]}
			}
			args[k] = f.leafRead(l)
			continue
		}
		args[k] = f.leafRead(leaf{n: o, mode: e.modes[k], strides: e.strides[k], typ: e.inTypes[k]})
	}
	f.members = append(f.members, x)
	f.args[x] = args
}

// tryFuse computes operand k of x, o, inside f's kernel if the rules allow and the buffers fit.
func (pl *planner) tryFuse(f *fusion, x *node, k int, o *node, remaining int, atZero, dup bool) bool {
	for _, m := range f.members { // already computed here (read twice: Mul(x, x))
		if m == o {
			return true
		}
	}
	if o.ew == nil || pl.fused[o] || (pl.static[o] && !pl.static[f.root] && o.shape.Size() > 1) {
		return false // static values stay in their buffers, computed once (single ones are recomputed)
	}
	sameIndex := x.ew.modes[k] == same && o.shape.Size() == x.shape.Size() && !atZero
	oneValue := o.shape.Size() == 1 && (atZero || x.ew.modes[k] == scalar || sameIndex)
	sole, later := true, true // x is o's only reader; every other reader runs after the root's kernel
	for _, id := range pl.readers[o] {
		if id != x.id {
			sole = false
			if id <= f.root.id {
				later = false
			}
		}
	}
	var export, dupHere bool
	switch {
	case !(sameIndex || oneValue):
		return false
	case sole && !dup:
	case oneValue:
		dupHere = true
	case sameIndex && later && !dup && o.shape.Size() == f.root.shape.Size():
		export = true
	default:
		return false
	}
	saveMembers, saveLeaves, saveExports, saveJournal := len(f.members), len(f.leaves), len(f.exports), len(pl.journal)
	if !dup && !dupHere {
		pl.fused[o] = true
		pl.journal = append(pl.journal, o)
	}
	if export {
		f.exports = append(f.exports, o)
		pl.exported[o] = f.root
	}
	pl.add(f, o, remaining, atZero || (oneValue && !sameIndex), dup || dupHere)
	if len(f.leaves)+len(f.exports)+remaining <= pl.maxBuffers {
		return true
	}
	// Too many buffers: undo, and read o from its buffer.
	for _, m := range pl.journal[saveJournal:] {
		delete(pl.fused, m)
		delete(pl.exported, m)
	}
	for _, m := range f.members[saveMembers:] {
		delete(f.args, m)
	}
	pl.journal = pl.journal[:saveJournal]
	f.members, f.leaves, f.exports = f.members[:saveMembers], f.leaves[:saveLeaves], f.exports[:saveExports]
	return false
}

// literal is the WGSL of a single constant value (its bits, so it is exact).
func literal(n *node) (string, bool) {
	n = n.storage()
	if n.constant == nil || len(n.constant) != 4 {
		return "", false
	}
	w := uint32(n.constant[0]) | uint32(n.constant[1])<<8 | uint32(n.constant[2])<<16 | uint32(n.constant[3])<<24
	t, err := deviceType(n.shape.DType)
	if err != nil || t == "" {
		return "", false
	}
	return fmt.Sprintf("bitcast<%s>(0x%08xu)", t, w), true
}

// leafRead returns the WGSL reading a leaf at invocation i, binding the leaf once.
func (f *fusion) leafRead(l leaf) string {
	k := -1
	for j, have := range f.leaves {
		if have.n.storage() == l.n.storage() && have.mode == l.mode && fmt.Sprint(have.strides) == fmt.Sprint(l.strides) {
			k = j
			break
		}
	}
	if k < 0 {
		k = len(f.leaves)
		f.leaves = append(f.leaves, l)
	}
	switch l.mode {
	case same:
		return fmt.Sprintf("in%d[i]", k)
	case scalar:
		return fmt.Sprintf("in%d[0]", k)
	}
	return fmt.Sprintf("in%d[at%d]", k, k) // at<k>: computed once at the top of the kernel
}

// dispatch is the fused kernel: one function per member, called in graph order, then the stores.
func (f *fusion) dispatch() dispatch {
	root := f.root
	var helpers, body strings.Builder
	names := []string{"x", "y", "z"}
	reads := make([]*node, len(f.leaves))
	types := make([]string, len(f.leaves))
	var lists [][]int
	var generalLeaves []int
	for j, l := range f.leaves {
		reads[j], types[j] = l.n, l.typ
		if l.mode == general {
			lists = append(lists, l.strides)
			generalLeaves = append(generalLeaves, j)
		}
	}
	if len(lists) > 0 {
		idx := stridedIndices(&body, "g", root.shape.Dimensions, lists, make([]int, len(lists)))
		for k, j := range generalLeaves {
			fmt.Fprintf(&body, "  let at%d = %s;\n", j, idx[k])
		}
	}
	// Members in graph order: operands before the nodes that use them.
	members := append([]*node(nil), f.members...)
	for i := 1; i < len(members); i++ {
		for j := i; j > 0 && members[j].id < members[j-1].id; j-- {
			members[j], members[j-1] = members[j-1], members[j]
		}
	}
	for _, m := range members {
		var sig []string
		for k, t := range m.ew.inTypes {
			sig = append(sig, names[k]+": "+t)
		}
		fmt.Fprintf(&helpers, "fn f%d(%s) -> %s { return %s; }\n", m.id, strings.Join(sig, ", "), m.ew.outType, m.ew.expr)
		fmt.Fprintf(&body, "  let v%d = f%d(%s);\n", m.id, m.id, strings.Join(f.args[m], ", "))
	}
	exportTypes := make([]string, len(f.exports))
	for j, x := range f.exports {
		exportTypes[j] = x.ew.outType
		fmt.Fprintf(&body, "  out%d[i] = v%d;\n", j+1, x.id)
	}
	fmt.Fprintf(&body, "  out[i] = v%d;", root.id)
	return dispatch{source: kernelSourceWrites(root.ew.outType, exportTypes, types, helpers.String(), body.String()),
		writes: f.exports, reads: reads, params: u32s(root.shape.Size()), threads: root.shape.Size()}
}
