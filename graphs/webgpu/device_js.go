//go:build js

package webgpu

import (
	"errors"
	"fmt"
	"sync"
	"syscall/js"
)

// await blocks the calling goroutine until the promise settles (the JavaScript event loop runs
// meanwhile) and returns its value or its rejection as an error.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	var then, catch js.Func
	then = js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: arg0(args)}
		return nil
	})
	catch = js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "rejected"
		if e := arg0(args); e.Truthy() {
			msg = e.Call("toString").String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	p.Call("then", then, catch)
	r := <-ch
	then.Release()
	catch.Release()
	return r.v, r.err
}

func arg0(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

// Device is a WebGPU device and its queue.
type Device struct {
	Adapter AdapterInfo
	dev     js.Value
	queue   js.Value
	onError js.Func
	// storageBuffers is the device's limit per shader stage (fusion binds up to it).
	storageBuffers int
	mu             sync.Mutex
	uncaptured     error
}

// Err returns the first validation error the device reported outside an error scope.
func (d *Device) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.uncaptured
}

// AdapterInfo is what the adapter says of itself (SwiftShader: vendor "google", architecture
// "swiftshader", a Vulkan implementation on the CPU).
type AdapterInfo struct {
	Vendor       string `json:"vendor"`
	Architecture string `json:"architecture"`
	Device       string `json:"device"`
	Description  string `json:"description"`
}

// Open requests an adapter and a device; an error says why there is none (no navigator.gpu, no
// adapter: the page then stays on the wasm engine).
func Open() (*Device, error) {
	nav := js.Global().Get("navigator")
	if !nav.Truthy() || !nav.Get("gpu").Truthy() {
		return nil, errors.New("no WebGPU in this browser (navigator.gpu is missing)")
	}
	adapter, err := await(nav.Get("gpu").Call("requestAdapter"))
	if err != nil {
		return nil, fmt.Errorf("WebGPU adapter: %w", err)
	}
	if !adapter.Truthy() {
		return nil, errors.New("WebGPU gives no adapter")
	}
	d := &Device{}
	if info := adapter.Get("info"); info.Truthy() {
		str := func(k string) string {
			if v := info.Get(k); v.Type() == js.TypeString {
				return v.String()
			}
			return ""
		}
		d.Adapter = AdapterInfo{Vendor: str("vendor"), Architecture: str("architecture"), Device: str("device"), Description: str("description")}
	}
	// The default limits cap a storage binding at 128 MiB; ask for what the adapter has (a training
	// batch's im2col patches can be large).
	limits := adapter.Get("limits")
	required := map[string]any{}
	for _, k := range []string{"maxStorageBufferBindingSize", "maxBufferSize", "maxComputeWorkgroupsPerDimension", "maxStorageBuffersPerShaderStage"} {
		if v := limits.Get(k); v.Type() == js.TypeNumber {
			required[k] = v
		}
	}
	if d.dev, err = await(adapter.Call("requestDevice", map[string]any{"requiredLimits": required})); err != nil {
		return nil, fmt.Errorf("WebGPU device: %w", err)
	}
	d.queue = d.dev.Get("queue")
	d.storageBuffers = DefaultStorageBuffers
	if v := d.dev.Get("limits").Get("maxStorageBuffersPerShaderStage"); v.Type() == js.TypeNumber {
		d.storageBuffers = min(v.Int(), 16) // more would only lengthen fused kernels' argument lists
	}
	// Validation errors outside an error scope (a bad dispatch) would otherwise vanish: keep the first.
	d.onError = js.FuncOf(func(_ js.Value, args []js.Value) any {
		d.mu.Lock()
		if d.uncaptured == nil {
			d.uncaptured = errors.New("WebGPU: " + arg0(args).Get("error").Get("message").String())
		}
		d.mu.Unlock()
		return nil
	})
	d.dev.Call("addEventListener", "uncapturederror", d.onError)
	return d, nil
}

// Buffer usage flags (GPUBufferUsage) and map modes (GPUMapMode).
const (
	usageMapRead = 0x0001
	usageCopySrc = 0x0004
	usageCopyDst = 0x0008
	usageStorage = 0x0080
	mapModeRead  = 0x0001
)

// Wait returns when the GPU has done all work submitted so far.
func (d *Device) Wait() error {
	_, err := await(d.queue.Call("onSubmittedWorkDone"))
	return err
}
