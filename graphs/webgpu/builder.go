package webgpu

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/notimplemented"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// node is one value of a graph: the buffer an op writes (or, for a Reshape or Identity, the buffer of
// its input seen with another shape) and the dispatches that fill it.
type node struct {
	id     int
	op     backends.OpType
	shape  shapes.Shape
	inputs []*node
	// alias: the node is its input's buffer under another shape (Reshape, Identity); no dispatch.
	alias *node
	// param ≥ 0: the node is the executable's input number param.
	param int
	// constant: device bytes uploaded once, when the graph is compiled.
	constant []byte
	// view, for nodes that only move values (transpose, broadcast, slice): node i is
	// view.src[offset + Σ coordinate·stride]. Fusion reads the source in place of the node.
	view *view
	// ew, for element-wise nodes, is what fusion needs to inline the node into its consumer.
	ew *elementwise
	// dispatches run in order; each writes the node's buffer (binding 0) and reads reads (bindings
	// 1…), then a parameter block (the last binding).
	dispatches []dispatch
}

type view struct {
	src     *node
	strides []int
	offset  int
}

// storage is the node whose buffer holds n's values.
func (n *node) storage() *node {
	for n.alias != nil {
		n = n.alias
	}
	return n
}

// dispatch is one compute pass over threads invocations (or explicit workgroup counts) of a kernel.
type dispatch struct {
	source  string   // WGSL, entry point main
	writes  []*node  // more outputs (a fused kernel storing values other kernels read), bound after it
	reads   []*node  // bound after the outputs, in order
	params  []uint32 // bound last as a read-only storage array<u32>
	threads int      // one invocation per value, 64 per workgroup (ignored when groups is set)
	groups  [3]int
}

// Builder records a graph for the GPU. Composite ops (convolutions, padding, pooling gradients, batch
// norm) are not here: the backend wraps this builder in the pure-Go engine's, which lowers them to the
// primitive ops below, so both backends run the same formulations and the same gradients.
type Builder struct {
	notimplemented.Builder // every op not implemented here returns GoMLX's "not implemented" error
	name                   string
	nodes                  []*node
	params                 []*node
	compile                func(b *Builder, outputs []*node) (backends.Executable, error) // set by the backend
}

var _ backends.Builder = (*Builder)(nil)

// NewBuilder returns an empty graph; compile turns it into an executable (nil: Compile fails, for
// builds without a device, where only the graph and its kernels can be checked).
func NewBuilder(name string, compile func(b *Builder, outputs []*node) (backends.Executable, error)) *Builder {
	return &Builder{name: name, compile: compile}
}

func (b *Builder) Name() string { return b.name }

func (b *Builder) Compile(outputs []backends.Op, _ []*backends.ShardingSpec) (backends.Executable, error) {
	outs, err := b.nodesOf("Compile", outputs...)
	if err != nil {
		return nil, err
	}
	if b.compile == nil {
		return nil, fmt.Errorf("webgpu: graph %q built, but this build has no WebGPU device (only the browser has one)", b.name)
	}
	return b.compile(b, outs)
}

func (b *Builder) OpShape(op backends.Op) (shapes.Shape, error) {
	n, err := b.nodeOf("OpShape", op)
	if err != nil {
		return shapes.Invalid(), err
	}
	return n.shape, nil
}

func (b *Builder) nodeOf(opName string, op backends.Op) (*node, error) {
	n, ok := op.(*node)
	if !ok || n == nil {
		return nil, fmt.Errorf("webgpu %s: operand %T is not a webgpu op", opName, op)
	}
	if n.id >= len(b.nodes) || b.nodes[n.id] != n {
		return nil, fmt.Errorf("webgpu %s: operand from another graph", opName)
	}
	return n, nil
}

func (b *Builder) nodesOf(opName string, ops ...backends.Op) ([]*node, error) {
	out := make([]*node, len(ops))
	for i, op := range ops {
		n, err := b.nodeOf(opName, op)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// add appends a node after checking that the GPU can hold its dtype.
func (b *Builder) add(op backends.OpType, shape shapes.Shape, inputs ...*node) (*node, error) {
	if _, err := deviceType(shape.DType); err != nil {
		return nil, fmt.Errorf("webgpu %s: %w", op, err)
	}
	n := &node{id: len(b.nodes), op: op, shape: shape, inputs: inputs, param: -1}
	b.nodes = append(b.nodes, n)
	return n, nil
}

func (b *Builder) Parameter(name string, shape shapes.Shape, sharding *backends.ShardingSpec) (backends.Op, error) {
	if sharding != nil {
		return nil, fmt.Errorf("webgpu: parameter %q: sharding is not supported (one device)", name)
	}
	n, err := b.add(backends.OpTypeParameter, shape)
	if err != nil {
		return nil, err
	}
	n.param = len(b.params)
	b.params = append(b.params, n)
	return n, nil
}

func (b *Builder) Constant(flat any, dims ...int) (backends.Op, error) {
	dtype, size, err := flatInfo(flat)
	if err != nil {
		return nil, fmt.Errorf("webgpu Constant: %w", err)
	}
	shape := shapes.Make(dtype, dims...)
	if shape.Size() != size {
		return nil, fmt.Errorf("webgpu Constant: %d values for shape %s", size, shape)
	}
	n, err := b.add(backends.OpTypeConstant, shape)
	if err != nil {
		return nil, err
	}
	if n.constant, err = toDevice(flat); err != nil {
		return nil, fmt.Errorf("webgpu Constant: %w", err)
	}
	return n, nil
}

func (b *Builder) Identity(x backends.Op) (backends.Op, error) {
	n, err := b.nodeOf("Identity", x)
	if err != nil {
		return nil, err
	}
	return b.aliasOf(backends.OpTypeIdentity, n, n.shape)
}

func (b *Builder) Reshape(x backends.Op, dims ...int) (backends.Op, error) {
	n, err := b.nodeOf("Reshape", x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.ReshapeOp(n.shape, dims)
	if err != nil {
		return nil, err
	}
	return b.aliasOf(backends.OpTypeReshape, n, shape)
}

func (b *Builder) aliasOf(op backends.OpType, n *node, shape shapes.Shape) (*node, error) {
	out, err := b.add(op, shape, n)
	if err != nil {
		return nil, err
	}
	out.alias = n
	return out, nil
}

// The multi-device ops are refused: the browser has one GPU.
func (b *Builder) DistributedSPMD(int) error { return fmt.Errorf("webgpu: one device only") }
func (b *Builder) DistributedAutoSharding(...backends.Mesh) error {
	return fmt.Errorf("webgpu: one device only")
}
func (b *Builder) DeviceAssignment(devices ...backends.DeviceNum) error {
	if len(devices) == 1 && devices[0] == 0 {
		return nil
	}
	return fmt.Errorf("webgpu: one device only")
}

// strides are the row-major element strides of dims.
func strides(dims []int) []int {
	s := make([]int, len(dims))
	acc := 1
	for i := len(dims) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= dims[i]
	}
	return s
}

func u32s(v ...int) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = uint32(x)
	}
	return out
}

func identityPerm(perm []int) bool {
	for i, p := range perm {
		if p != i {
			return false
		}
	}
	return true
}

var _ = slices.Clone[[]int]
