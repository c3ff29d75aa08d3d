package webgpu

import (
	"fmt"
	"strings"
)

// Fusion. On SwiftShader a dispatch costs about as much as a small kernel's work (the queue, the
// barrier between dispatches, the task launch), and a training step of the tiny CNN had ~500 of
// them, most of them element-wise ops on a handful of values (Adam's updates, the learning-rate
// schedule). So, at compile time, an element-wise node read by exactly one other element-wise node,
// over the same index, is computed inside its consumer's kernel instead of in a buffer of its own:
// a chain of element-wise ops becomes one kernel, its intermediate values registers.

// maxFusedInputs: WebGPU guarantees 8 storage buffers per shader stage; the output and the parameter
// block take two.
const maxFusedInputs = 6

// plan is what Compile builds: the nodes that get a buffer, in graph order, and their dispatches.
type plan struct {
	order      []*node
	dispatches map[*node][]dispatch
	fused      int // nodes computed inside a consumer's kernel
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
	members []*node            // the nodes it computes, the root last
	args    map[*node][]string // per member, the WGSL of each operand
	leaves  []leaf
}

func makePlan(b *Builder, outputs []*node) *plan {
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
	reads := map[*node]int{}
	for _, n := range b.nodes {
		if live[n] {
			for _, d := range n.dispatches {
				for _, r := range d.reads {
					reads[r.storage()]++
				}
			}
		}
	}
	for _, o := range outputs {
		reads[o.storage()] += 2 // an output needs its buffer
	}
	p := &plan{dispatches: map[*node][]dispatch{}}
	fused := map[*node]bool{}
	for i := len(b.nodes) - 1; i >= 0; i-- { // consumers before producers
		n := b.nodes[i]
		if !live[n] || n.ew == nil || fused[n] {
			continue
		}
		f := &fusion{args: map[*node][]string{}}
		f.add(n, 0, false, reads, fused)
		if len(f.members) > 1 {
			p.dispatches[n] = []dispatch{f.dispatch(n)}
			p.fused += len(f.members) - 1
		}
	}
	for _, n := range b.nodes {
		if live[n] && n.alias == nil && !fused[n] {
			if _, ok := p.dispatches[n]; !ok {
				p.dispatches[n] = n.dispatches
			}
		}
	}
	// Views read through by every consumer are no longer needed: keep what the outputs still reach.
	needed := map[*node]bool{}
	var need func(n *node)
	need = func(n *node) {
		n = n.storage()
		if needed[n] {
			return
		}
		needed[n] = true
		for _, d := range p.dispatches[n] {
			for _, r := range d.reads {
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
		} else {
			delete(p.dispatches, n)
		}
	}
	return p
}

// add puts x in the kernel: each operand either fused (recursively) or read as a leaf. reserve is the
// number of leaves the operands still to visit above x may need. atZero: x is one value, read by its
// consumer as a scalar (Adam's 1 − β, the schedule's factors), so everything under it is read at 0.
func (f *fusion) add(x *node, reserve int, atZero bool, reads map[*node]int, fused map[*node]bool) {
	e := x.ew
	args := make([]string, len(x.inputs))
	for k, o := range x.inputs {
		remaining := reserve + len(x.inputs) - k - 1
		sameIndex := e.modes[k] == same && o.shape.Size() == x.shape.Size()
		oneValue := o.shape.Size() == 1 && (atZero || e.modes[k] == scalar)
		if o.ew != nil && (sameIndex || oneValue) && reads[o] == 1 && !fused[o] {
			saveMembers, saveLeaves := len(f.members), len(f.leaves)
			fused[o] = true
			f.add(o, remaining, atZero || oneValue && !sameIndex, reads, fused)
			if len(f.leaves)+remaining <= maxFusedInputs {
				args[k] = fmt.Sprintf("v%d", o.id)
				continue
			}
			for _, m := range f.members[saveMembers:] { // too many inputs: undo, read o from its buffer
				delete(fused, m)
				delete(f.args, m)
			}
			delete(fused, o)
			f.members, f.leaves = f.members[:saveMembers], f.leaves[:saveLeaves]
		}
		if atZero {
			args[k] = f.leafRead(leaf{n: o, mode: scalar, typ: e.inTypes[k]})
			continue
		}
		if v := o.view; v != nil && v.offset == 0 && e.modes[k] == same && o.shape.Size() == x.shape.Size() {
			// A transpose or broadcast read through: its source, at the view's strides.
			l := leaf{n: v.src, mode: general, strides: v.strides, typ: e.inTypes[k]}
			if v.src.shape.Size() == 1 {
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

// dispatch is the fused kernel: one function per member, called in graph order.
func (f *fusion) dispatch(root *node) dispatch {
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
	fmt.Fprintf(&body, "  out[i] = v%d;", root.id)
	return dispatch{source: kernelSource(root.ew.outType, types, helpers.String(), body.String()), reads: reads,
		params: u32s(root.shape.Size()), threads: root.shape.Size()}
}
