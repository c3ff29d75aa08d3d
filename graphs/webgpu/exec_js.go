//go:build js

package webgpu

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// New returns the backend on an opened device.
func New(d *Device) *Backend {
	b := NewGraphsOnly()
	b.dev = &webGPU{d: d, pipelines: map[string]js.Value{}}
	return b
}

// webGPU is the gpu of a browser's WebGPU device: buffers, and graphs compiled to a list of dispatches.
type webGPU struct {
	d         *Device
	pipelines map[string]js.Value // by WGSL source: one pipeline per op and types, shared by all graphs
}

func (g *webGPU) describe() string {
	a := g.d.Adapter
	return fmt.Sprintf("%s %s %s", a.Vendor, a.Architecture, a.Description)
}

// buffer is a tensor in GPU memory: 32-bit words (see dtypes.go).
type buffer struct {
	shape    shapes.Shape
	gpu      js.Value
	bytes    int
	released bool
}

func byteSize(shape shapes.Shape) int { return 4 * wordsPer(shape.DType) * shape.Size() }

// newGPUBuffer allocates a storage buffer (at least 4 bytes: WebGPU has no empty bindings).
func (g *webGPU) newGPUBuffer(bytes int) js.Value {
	return g.d.dev.Call("createBuffer", map[string]any{"size": max(4, bytes), "usage": usageStorage | usageCopySrc | usageCopyDst})
}

func (g *webGPU) write(dst js.Value, raw []byte) {
	if len(raw) == 0 {
		return
	}
	u := js.Global().Get("Uint8Array").New(len(raw))
	js.CopyBytesToJS(u, raw)
	g.d.queue.Call("writeBuffer", dst, 0, u)
}

func (g *webGPU) upload(flat any, shape shapes.Shape) (backends.Buffer, error) {
	raw, err := toDevice(flat)
	if err != nil {
		return nil, fmt.Errorf("webgpu: %w", err)
	}
	buf := &buffer{shape: shape, gpu: g.newGPUBuffer(len(raw)), bytes: len(raw)}
	g.write(buf.gpu, raw)
	return buf, nil
}

func (g *webGPU) asBuffer(b backends.Buffer) (*buffer, error) {
	buf, ok := b.(*buffer)
	if !ok || buf == nil {
		return nil, fmt.Errorf("webgpu: buffer %T is not a WebGPU buffer", b)
	}
	if buf.released {
		return nil, errors.New("webgpu: buffer used after it was released")
	}
	return buf, nil
}

func (g *webGPU) shapeOf(b backends.Buffer) (shapes.Shape, error) {
	buf, err := g.asBuffer(b)
	if err != nil {
		return shapes.Invalid(), err
	}
	return buf.shape, nil
}

func (g *webGPU) release(b backends.Buffer) error {
	buf, err := g.asBuffer(b)
	if err != nil {
		return err
	}
	buf.released = true
	buf.gpu.Call("destroy") // WebGPU frees it once the work already submitted is done with it
	return nil
}

// download copies a buffer to the host through a mappable staging buffer; it waits for the GPU.
func (g *webGPU) download(b backends.Buffer, flat any) error {
	buf, err := g.asBuffer(b)
	if err != nil {
		return err
	}
	dtype, n, err := flatInfo(flat)
	if err != nil {
		return fmt.Errorf("webgpu: %w", err)
	}
	if dtype != buf.shape.DType || n != buf.shape.Size() {
		return fmt.Errorf("webgpu: read %s into %d values of %s", buf.shape, n, dtype)
	}
	if buf.bytes == 0 {
		return nil
	}
	staging := g.d.dev.Call("createBuffer", map[string]any{"size": buf.bytes, "usage": usageMapRead | usageCopyDst})
	defer staging.Call("destroy")
	enc := g.d.dev.Call("createCommandEncoder")
	enc.Call("copyBufferToBuffer", buf.gpu, 0, staging, 0, buf.bytes)
	g.d.queue.Call("submit", []any{enc.Call("finish")})
	if _, err := await(staging.Call("mapAsync", mapModeRead)); err != nil {
		return fmt.Errorf("webgpu read-back: %w", err)
	}
	view := js.Global().Get("Uint8Array").New(staging.Call("getMappedRange"))
	raw := make([]byte, buf.bytes)
	js.CopyBytesToGo(raw, view)
	staging.Call("unmap")
	if err := g.d.Err(); err != nil {
		return err
	}
	return fromDevice(raw, flat)
}

// executable is a compiled graph: a buffer for every value it computes (allocated once, reused by
// every run), its parameters copied in and its outputs copied out around one compute pass.
type executable struct {
	g          *webGPU
	names      []string
	params     []*node
	outputs    []*node
	buffers    map[*node]js.Value // by storage node
	owned      []js.Value         // everything to destroy on Finalize
	dispatches js.Value           // a JavaScript array of [pipeline, bindGroup, x, y, z]
	labels     []string           // op and shape of each dispatch, for Profile
}

// RunPassSource is the body of a JavaScript function (enc, list) that encodes the dispatches in one
// compute pass: a training step of hundreds of dispatches then costs one call from Go, not three per
// dispatch. The page's worker defines it as mnistzipRunPass (its Content-Security-Policy forbids
// building functions from strings: keep the two alike); other hosts get it from Function.
const RunPassSource = `const pass = enc.beginComputePass();
for (const [p, g, x, y, z] of list) { pass.setPipeline(p); pass.setBindGroup(0, g); pass.dispatchWorkgroups(x, y, z); }
pass.end();`

var runPass = sync.OnceValue(func() js.Value {
	if f := js.Global().Get("mnistzipRunPass"); f.Type() == js.TypeFunction {
		return f
	}
	return js.Global().Get("Function").New("enc", "list", RunPassSource)
})

func (g *webGPU) compile(b *Builder, outputs []*node) (backends.Executable, error) {
	// Only what the outputs depend on runs; element-wise chains run fused (fuse.go).
	pl := makePlan(b, outputs, g.d.storageBuffers)
	e := &executable{g: g, outputs: outputs, buffers: map[*node]js.Value{}, params: b.params}
	for _, p := range b.params {
		e.names = append(e.names, fmt.Sprintf("p%d", p.param))
	}
	list := js.Global().Get("Array").New()
	once := js.Global().Get("Array").New() // the static nodes' dispatches, run here

	g.d.dev.Call("pushErrorScope", "validation")
	var modules []js.Value
	var added []string // pipelines this compile creates: dropped again if it fails
	for _, n := range pl.order {
		buf := g.newGPUBuffer(byteSize(n.shape))
		e.buffers[n], e.owned = buf, append(e.owned, buf)
		if n.constant != nil {
			g.write(buf, n.constant)
		}
	}
	for _, n := range pl.order {
		for _, d := range pl.dispatches[n] {
			if d.threads == 0 && d.groups == [3]int{} {
				continue
			}
			pipeline, ok := g.pipelines[d.source]
			if !ok {
				module := g.d.dev.Call("createShaderModule", map[string]any{"code": d.source})
				modules, added = append(modules, module), append(added, d.source)
				pipeline = g.d.dev.Call("createComputePipeline", map[string]any{"layout": "auto", "compute": map[string]any{"module": module, "entryPoint": "main"}})
				g.pipelines[d.source] = pipeline
			}
			paramBuf := g.newGPUBuffer(4 * len(d.params))
			e.owned = append(e.owned, paramBuf)
			raw, _ := toDevice(d.params)
			g.write(paramBuf, raw)
			bound := append(append([]*node{n}, d.writes...), d.reads...)
			entries := make([]any, 0, len(bound)+1)
			for k, r := range bound {
				entries = append(entries, map[string]any{"binding": k, "resource": map[string]any{"buffer": e.buffers[r.storage()]}})
			}
			entries = append(entries, map[string]any{"binding": len(bound), "resource": map[string]any{"buffer": paramBuf}})
			group := g.d.dev.Call("createBindGroup", map[string]any{"layout": pipeline.Call("getBindGroupLayout", 0), "entries": entries})
			x, y, z := d.groups[0], d.groups[1], d.groups[2]
			if d.groups == [3]int{} {
				wg := (d.threads + workgroupSize - 1) / workgroupSize
				x, y, z = min(wg, 65535), (wg+65534)/65535, 1
			}
			if pl.static[n] {
				once.Call("push", []any{pipeline, group, x, y, z})
				continue
			}
			list.Call("push", []any{pipeline, group, x, y, z})
			e.labels = append(e.labels, fmt.Sprintf("%s %s", n.op, n.shape))
		}
	}
	e.dispatches = list
	compiledMu.Lock()
	compiled = append(compiled, GraphStats{Name: b.name, Nodes: len(b.nodes), Dispatches: list.Length(), Static: once.Length(),
		Fused: pl.fused, Pipelines: len(g.pipelines), StorageBuffers: g.d.storageBuffers})
	compiledMu.Unlock()
	if once.Length() > 0 {
		enc := g.d.dev.Call("createCommandEncoder")
		runPass().Invoke(enc, once)
		g.d.queue.Call("submit", []any{enc.Call("finish")})
	}
	scopeErr, err := await(g.d.dev.Call("popErrorScope"))
	if err == nil && scopeErr.Truthy() {
		err = errors.New(scopeErr.Get("message").String())
		// Name the WGSL line when a shader did not compile.
		for _, m := range modules {
			if info, e2 := await(m.Call("getCompilationInfo")); e2 == nil {
				msgs := info.Get("messages")
				for i := range msgs.Length() {
					if msg := msgs.Index(i); msg.Get("type").String() == "error" {
						err = fmt.Errorf("%w; WGSL line %d: %s", err, msg.Get("lineNum").Int(), msg.Get("message").String())
					}
				}
			}
		}
	}
	if err != nil {
		for _, src := range added {
			delete(g.pipelines, src)
		}
		e.Finalize()
		return nil, fmt.Errorf("webgpu compile %q: %w", b.name, err)
	}
	return e, nil
}

func (e *executable) Finalize() {
	for _, b := range e.owned {
		b.Call("destroy")
	}
	e.owned = nil
}

func (e *executable) Inputs() ([]string, []shapes.Shape) {
	s := make([]shapes.Shape, len(e.params))
	for i, p := range e.params {
		s[i] = p.shape
	}
	return e.names, s
}

func (e *executable) Outputs() []shapes.Shape {
	s := make([]shapes.Shape, len(e.outputs))
	for i, o := range e.outputs {
		s[i] = o.shape
	}
	return s
}

// Execute queues the run and returns at once: the outputs are GPU buffers that later reads wait for.
func (e *executable) Execute(inputs []backends.Buffer, donate []bool, _ backends.DeviceNum) ([]backends.Buffer, error) {
	if e.owned == nil {
		return nil, errors.New("webgpu: executable used after Finalize")
	}
	if len(inputs) != len(e.params) {
		return nil, fmt.Errorf("webgpu: %d inputs for %d parameters", len(inputs), len(e.params))
	}
	g := e.g
	enc := g.d.dev.Call("createCommandEncoder")
	ins := make([]*buffer, len(inputs))
	for i, in := range inputs {
		buf, err := g.asBuffer(in)
		if err != nil {
			return nil, err
		}
		if !buf.shape.Equal(e.params[i].shape) {
			return nil, fmt.Errorf("webgpu: input %d is %s, the graph wants %s", i, buf.shape, e.params[i].shape)
		}
		ins[i] = buf
		if dst, ok := e.buffers[e.params[i]]; ok && buf.bytes > 0 {
			enc.Call("copyBufferToBuffer", buf.gpu, 0, dst, 0, buf.bytes)
		}
	}
	if profiling.Load() {
		if err := e.profile(enc); err != nil {
			return nil, err
		}
		enc = g.d.dev.Call("createCommandEncoder")
	} else {
		runPass().Invoke(enc, e.dispatches)
	}
	outs := make([]backends.Buffer, len(e.outputs))
	for i, o := range e.outputs {
		bytes := byteSize(o.shape)
		out := &buffer{shape: o.shape, gpu: g.newGPUBuffer(bytes), bytes: bytes}
		if bytes > 0 {
			enc.Call("copyBufferToBuffer", e.buffers[o.storage()], 0, out.gpu, 0, bytes)
		}
		outs[i] = out
	}
	g.d.queue.Call("submit", []any{enc.Call("finish")})
	for i, buf := range ins {
		if i < len(donate) && donate[i] {
			_ = g.release(buf)
		}
	}
	if err := g.d.Err(); err != nil {
		return nil, err
	}
	return outs, nil
}

// Adapter describes the device's adapter (the zero value for a backend without one).
func (b *Backend) Adapter() AdapterInfo {
	if g, ok := b.dev.(*webGPU); ok {
		return g.d.Adapter
	}
	return AdapterInfo{}
}

// profiling makes Execute run each dispatch alone and wait for it, adding its time to profile.
var (
	profiling   atomic.Bool
	profileMu   sync.Mutex
	profileTime = map[string]time.Duration{}
	profileRuns = map[string]int{}
)

// Profile turns per-dispatch timing on (slow: one queue round trip per dispatch) or off.
func Profile(on bool) {
	profiling.Store(on)
	if on {
		profileMu.Lock()
		clear(profileTime)
		clear(profileRuns)
		profileMu.Unlock()
	}
}

// ProfileEntry is the time the dispatches of one op and shape took, summed over the runs profiled.
type ProfileEntry struct {
	Label string  `json:"label"`
	Ms    float64 `json:"ms"`
	Count int     `json:"count"`
}

// ProfileReport lists the profiled dispatches, slowest first.
func ProfileReport() []ProfileEntry {
	profileMu.Lock()
	defer profileMu.Unlock()
	var out []ProfileEntry
	for l, d := range profileTime {
		out = append(out, ProfileEntry{Label: l, Ms: float64(d.Microseconds()) / 1000, Count: profileRuns[l]})
	}
	slices.SortFunc(out, func(a, b ProfileEntry) int { return cmp.Compare(b.Ms, a.Ms) })
	return out
}

// profile submits what enc holds (the input copies), runs the whole pass once (the real results),
// then times each dispatch alone: once, and profileRepeats+1 times in one pass; the difference per
// repeat is its kernel time without the queue round trip. (Repeats recompute the same values, except
// for scatter-adds and the RNG: a profiled run's results are not a real run's.)
func (e *executable) profile(enc js.Value) error {
	const profileRepeats = 8
	g := e.g
	runPass().Invoke(enc, e.dispatches)
	g.d.queue.Call("submit", []any{enc.Call("finish")})
	if err := g.d.Wait(); err != nil {
		return err
	}
	timed := func(d js.Value, times int) (time.Duration, error) {
		list := js.Global().Get("Array").New()
		for range times {
			list.Call("push", d)
		}
		enc := g.d.dev.Call("createCommandEncoder")
		runPass().Invoke(enc, list)
		start := time.Now()
		g.d.queue.Call("submit", []any{enc.Call("finish")})
		err := g.d.Wait()
		return time.Since(start), err
	}
	for i := range e.dispatches.Length() {
		d := e.dispatches.Index(i)
		one, err := timed(d, 1)
		if err != nil {
			return err
		}
		many, err := timed(d, profileRepeats+1)
		if err != nil {
			return err
		}
		profileMu.Lock()
		profileTime[e.labels[i]] += max(0, many-one) / profileRepeats
		profileRuns[e.labels[i]]++
		profileMu.Unlock()
	}
	return nil
}

// GraphStats is what Compile made of one graph.
type GraphStats struct {
	Name           string `json:"name"`
	Nodes          int    `json:"nodes"`
	Dispatches     int    `json:"dispatches"` // per execution
	Static         int    `json:"static"`     // run once, at compile time
	Fused          int    `json:"fused"`      // nodes computed inside another node's kernel
	Pipelines      int    `json:"pipelines"`  // on the device so far (shared by graphs)
	StorageBuffers int    `json:"storageBuffers"`
}

var (
	compiledMu sync.Mutex
	compiled   []GraphStats
)

// Compiled lists the graphs compiled so far, in order.
func Compiled() []GraphStats {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	return slices.Clone(compiled)
}
