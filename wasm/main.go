//go:build js && wasm

// Command wasm is the browser host of mnistzip: the same graphs and codec as the native CLI, on the
// pure-Go engine, exposed to JavaScript as the global object `mnistzip` inside a Web Worker. It only
// translates values: graphs/service and codec/mz do the work (graphs/codecmodel is the autoencoder
// the codec is handed).
//
// Every function throws a JavaScript Error with the Go error's message on failure. Images travel as
// Float32Array (n × 784 values in [0, 1]), files as Uint8Array.
//
//	mnistzip.version()                      → {mnistzip, go, gomlx, backend}
//	mnistzip.models()                       → [{name, family, summary, sizes, train}] (the model registry)
//	mnistzip.load(name, bytes)              → info {name, model, id, params, classifier, codeSize, temperature, metrics}
//	mnistzip.classify(name, images, n)      → Float64Array n × 10 calibrated probabilities
//	mnistzip.reconstruct(name, images, n)   → Float32Array n × 784
//	mnistzip.encode(name, images, n)        → Float32Array n × codeSize
//	mnistzip.decode(name, codes, n)         → Float32Array n × 784
//	mnistzip.weights(name)                  → Uint8Array (a weights file)
//	mnistzip.decompress(bytes[, aeWeights[, {onProgress, whole, maxBytes}]]) → {dims, type, lossy, data: Uint8Array} of a .mz file
//	                                          (data: the IDX payload, or the whole IDX file with whole; refused past maxBytes)
//	mnistzip.compress(bytes[, {level, onProgress}]) → {mz: Uint8Array, dims, type, gzipped, level} of an IDX file (raw or .gz)
//	mnistzip.setSplit(name, imagesIDX, labelsIDX) → {name, n, histogram}: digits kept for train and test probes
//	mnistzip.splitImages(name, start, n)    → {images: Uint8Array n × 784, labels: Uint8Array n}
//	mnistzip.train(name, spec, images, labels, onProgress) → Promise of {…info, stopped, calibration}; spec: service.TrainSpec
//	                                          (images and labels may be null when spec.data names a split)
//	mnistzip.stop()                         → ends a running train within one step (spec.resume continues it)
//	mnistzip.webgpu()                       → Promise of the WebGPU adapter {vendor, architecture, …}; spec.backend
//	                                          "webgpu" then trains on it (rejected without WebGPU)
//	mnistzip.gpuCheck({size, steps, engineSteps, compare}) → Promise of {adapter, ops, gradient, train}: the WebGPU
//	                                          backend's ops against the engine's, its gradients by finite differences,
//	                                          the CNN trained on it (needs the train and test splits; rejected without WebGPU)
//
// onProgress(done, total) reports bytes read of the input.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"syscall/js"
	"time"

	"github.com/mnistzip/mnistzip/codec/mz"
	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/codecmodel"
	"github.com/mnistzip/mnistzip/graphs/service"
	"github.com/mnistzip/mnistzip/graphs/webgpu"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

var version = "dev" // set with -ldflags "-X main.version=..."

// wrapSource is the body of mnistzipWrap in www/worker.js: keep the two alike.
const wrapSource = "return function(...a) { const r = f(...a); if (r instanceof Error) throw r; return r; }"

func main() {
	backend, choice, err := graphs.BitExactBackend() // the page decodes .mz files: see BitExactBackend
	if err != nil {
		fmt.Fprintln(os.Stderr, "mnistzip:", err) // the host reports what the program printed when it exits
		os.Exit(1)
	}
	svc := service.New(backend)
	api := js.Global().Get("Object").New()
	// A Go function cannot throw into JavaScript: it returns an Error value, and a wrapper throws it.
	// The page's worker defines the wrapper (mnistzipWrap) because its Content-Security-Policy
	// forbids building functions from strings; other hosts (node in the tests) get it from Function.
	thrower := js.Global().Get("mnistzipWrap")
	if thrower.Type() != js.TypeFunction {
		thrower = js.Global().Get("Function").New("f", wrapSource)
	}
	def := func(name string, f func(args []js.Value) (any, error)) {
		api.Set(name, thrower.Invoke(js.FuncOf(func(_ js.Value, args []js.Value) (result any) {
			defer func() {
				if r := recover(); r != nil {
					result = throw(fmt.Errorf("%v", r))
				}
			}()
			v, err := f(args)
			if err != nil {
				return throw(err)
			}
			return v
		})))
	}
	def("version", func([]js.Value) (any, error) {
		return js.ValueOf(map[string]any{"mnistzip": version, "go": runtime.Version(), "gomlx": graphs.GoMLXVersion(), "backend": choice.String()}), nil
	})
	def("models", func([]js.Value) (any, error) {
		return toJS(service.Models()), nil
	})
	def("load", func(a []js.Value) (any, error) {
		info, err := svc.Load(a[0].String(), bytesFrom(a[1]))
		return toJS(info), err
	})
	def("classify", func(a []js.Value) (any, error) {
		p, err := svc.Classify(a[0].String(), floatsFrom(a[1]), a[2].Int())
		return float64Array(p), err
	})
	def("reconstruct", func(a []js.Value) (any, error) {
		out, err := svc.Reconstruct(a[0].String(), floatsFrom(a[1]), a[2].Int())
		return float32Array(out), err
	})
	def("encode", func(a []js.Value) (any, error) {
		out, err := svc.Encode(a[0].String(), floatsFrom(a[1]), a[2].Int())
		return float32Array(out), err
	})
	def("decode", func(a []js.Value) (any, error) {
		out, err := svc.Decode(a[0].String(), floatsFrom(a[1]), a[2].Int())
		return float32Array(out), err
	})
	def("weights", func(a []js.Value) (any, error) {
		b, err := svc.Weights(a[0].String())
		return uint8Array(b), err
	})
	def("decompress", func(a []js.Value) (any, error) {
		var aeWeights, opts js.Value
		if len(a) > 1 {
			aeWeights = a[1]
		}
		if len(a) > 2 {
			opts = a[2]
		}
		dec, err := mz.NewDecoder(mz.WithModelLoader(func(id string) (mz.Autoencoder, error) {
			// The autoencoder's weights come from the page (not embedded: the download stays small).
			if aeWeights.IsUndefined() || aeWeights.IsNull() {
				return nil, fmt.Errorf("this .mz file needs autoencoder %s: pass its weights file as the second argument", id)
			}
			w, err := weights.Decode(bytesFrom(aeWeights))
			if err != nil {
				return nil, err
			}
			m, err := codecmodel.Load(backend, w)
			if err != nil {
				return nil, err
			}
			return m, nil
		}))
		if err != nil {
			return nil, err
		}
		in := bytesFrom(a[0])
		var out bytes.Buffer
		// A small .mz can restore to gigabytes (blank digits cost nothing): in a browser tab the output
		// is held in memory, so the caller bounds it (maxBytes) and a file past it is refused.
		var w io.Writer = &out
		if m := option(opts, "maxBytes"); m.Type() == js.TypeNumber {
			w = &limitWriter{w: &out, limit: int64(m.Float())}
		}
		h, err := dec.Decode(w, progressReader(in, option(opts, "onProgress")))
		if err != nil {
			return nil, err
		}
		dims := make([]any, len(h.IDX.Dims))
		for i, d := range h.IDX.Dims {
			dims[i] = d
		}
		res := js.ValueOf(map[string]any{"dims": dims, "type": h.IDX.Type.String(), "lossy": h.Lossy})
		data := out.Bytes()
		if !option(opts, "whole").Truthy() {
			data = data[h.IDX.HeaderSize():]
		}
		res.Set("data", uint8Array(data))
		return res, nil
	})
	def("compress", func(a []js.Value) (any, error) {
		var opts js.Value
		if len(a) > 1 {
			opts = a[1]
		}
		level := mz.DefaultLevel
		switch l := option(opts, "level"); {
		case l.IsUndefined() || l.IsNull():
		case l.String() == "best":
			level = mz.LevelBest
		case l.String() == "fast":
			level = mz.LevelFast
		default:
			return nil, fmt.Errorf("level %q: want best or fast", l.String())
		}
		enc, err := mz.NewEncoder(mz.WithLevel(level))
		if err != nil {
			return nil, err
		}
		var out bytes.Buffer
		st, err := enc.Encode(&out, progressReader(bytesFrom(a[0]), option(opts, "onProgress")))
		if err != nil {
			return nil, err
		}
		dims := make([]any, len(st.IDX.Dims))
		for i, d := range st.IDX.Dims {
			dims[i] = d
		}
		res := js.ValueOf(map[string]any{"dims": dims, "type": st.IDX.Type.String(), "gzipped": st.Gzipped, "level": level.String(), "rawBytes": st.In})
		res.Set("mz", uint8Array(out.Bytes()))
		return res, nil
	})
	def("setSplit", func(a []js.Value) (any, error) {
		info, err := svc.SetSplit(a[0].String(), bytesFrom(a[1]), bytesFrom(a[2]))
		return toJS(info), err
	})
	def("splitImages", func(a []js.Value) (any, error) {
		images, labels, err := svc.SplitImages(a[0].String(), a[1].Int(), a[2].Int())
		if err != nil {
			return nil, err
		}
		res := js.Global().Get("Object").New()
		res.Set("images", uint8Array(images))
		res.Set("labels", uint8Array(labels))
		return res, nil
	})
	def("stop", func([]js.Value) (any, error) { svc.Stop(); return nil, nil })
	def("train", func(a []js.Value) (any, error) {
		name := a[0].String()
		var spec service.TrainSpec
		if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", a[1]).String()), &spec); err != nil {
			return nil, fmt.Errorf("train spec: %w", err)
		}
		var images []float32
		var labels []int32
		if spec.Data == "" {
			images, labels = floatsFrom(a[2]), int32sFrom(a[3])
		}
		onProgress := a[4]
		return promise(func() (any, error) {
			res, err := svc.Train(name, spec, images, labels, func(p service.Progress) {
				if onProgress.Type() == js.TypeFunction {
					onProgress.Invoke(toJS(p))
				}
				// Let the worker's event loop run (a stop message, the next progress post) between
				// steps: a Go goroutine that never blocks never returns control to JavaScript.
				time.Sleep(time.Millisecond)
			})
			return toJS(res), err
		}), nil
	})
	def("webgpu", func([]js.Value) (any, error) {
		return promise(func() (any, error) {
			gpu, err := openGPU()
			if err != nil {
				return nil, err
			}
			svc.AddTrainBackend(webgpu.BackendName, gpu)
			return toJS(gpu.Adapter()), nil
		}), nil
	})
	def("gpuCheck", func(a []js.Value) (any, error) {
		var spec gpuCheckSpec
		if len(a) > 0 && a[0].Truthy() {
			if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", a[0]).String()), &spec); err != nil {
				return nil, fmt.Errorf("gpuCheck: %w", err)
			}
		}
		return promise(func() (any, error) {
			gpu, err := openGPU()
			if err != nil {
				return nil, err
			}
			r, err := checkGPU(gpu, backend, svc, spec)
			return toJS(r), err
		}), nil
	})
	js.Global().Set("mnistzip", api)
	if ready := js.Global().Get("onMnistzipReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // keep the Go runtime alive for callbacks
}

// limitWriter refuses to write more than limit bytes.
type limitWriter struct {
	w              io.Writer
	written, limit int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.written+int64(len(p)) > l.limit {
		return 0, fmt.Errorf("it restores to more than %d bytes, more than this page holds in memory: use the mnistzip command", l.limit)
	}
	l.written += int64(len(p))
	return l.w.Write(p)
}

// option is opts[key], or undefined when opts is not an object.
func option(opts js.Value, key string) js.Value {
	if opts.Type() != js.TypeObject {
		return js.Undefined()
	}
	return opts.Get(key)
}

// progressReader reads b, calling onProgress(done, total) (when it is a function) every 256 KiB
// and at the end: the page draws a progress bar for a long decode or encode.
func progressReader(b []byte, onProgress js.Value) io.Reader {
	if onProgress.Type() != js.TypeFunction {
		return bytes.NewReader(b)
	}
	return &reportingReader{r: bytes.NewReader(b), total: len(b), report: func(done, total int) { onProgress.Invoke(done, total) }}
}

type reportingReader struct {
	r            *bytes.Reader
	done, total  int
	lastReported int
	report       func(done, total int)
}

func (r *reportingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.done += n
	if r.done-r.lastReported >= 256<<10 || (r.done == r.total && r.lastReported != r.done) {
		r.lastReported = r.done
		r.report(r.done, r.total)
	}
	return n, err
}

func throw(err error) js.Value {
	return js.Global().Get("Error").New(err.Error())
}

// promise runs f in a goroutine and settles a JavaScript Promise with its result.
func promise(f func() (any, error)) js.Value {
	var handler js.Func
	handler = js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject := args[0], args[1]
		go func() {
			defer handler.Release()
			defer func() {
				if r := recover(); r != nil {
					reject.Invoke(throw(fmt.Errorf("%v", r)))
				}
			}()
			v, err := f()
			if err != nil {
				reject.Invoke(throw(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	return js.Global().Get("Promise").New(handler)
}

// toJS turns a Go value into a plain JavaScript object through JSON.
func toJS(v any) js.Value {
	b, _ := json.Marshal(v)
	return js.Global().Get("JSON").Call("parse", string(b))
}

// rawBytes copies the bytes under any typed array or ArrayBuffer.
func rawBytes(v js.Value) []byte {
	u8 := js.Global().Get("Uint8Array")
	var view js.Value
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		view = u8.New(v)
	} else {
		view = u8.New(v.Get("buffer"), v.Get("byteOffset"), v.Get("byteLength"))
	}
	b := make([]byte, view.Get("length").Int())
	js.CopyBytesToGo(b, view)
	return b
}

func bytesFrom(v js.Value) []byte { return rawBytes(v) }

func floatsFrom(v js.Value) []float32 {
	if !v.InstanceOf(js.Global().Get("Float32Array")) {
		panic("want a Float32Array")
	}
	b := rawBytes(v)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func int32sFrom(v js.Value) []int32 {
	if v.InstanceOf(js.Global().Get("Uint8Array")) {
		b := rawBytes(v)
		out := make([]int32, len(b))
		for i, x := range b {
			out[i] = int32(x)
		}
		return out
	}
	b := rawBytes(v)
	out := make([]int32, len(b)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func uint8Array(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

func float32Array(f []float32) js.Value {
	b := make([]byte, 4*len(f))
	for i, x := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	u := uint8Array(b)
	return js.Global().Get("Float32Array").New(u.Get("buffer"))
}

func float64Array(f []float64) js.Value {
	b := make([]byte, 8*len(f))
	for i, x := range f {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	u := uint8Array(b)
	return js.Global().Get("Float64Array").New(u.Get("buffer"))
}
