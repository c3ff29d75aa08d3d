//go:build js && wasm

// Command wasm is the browser host of mnistzip: the same graphs and codec as the native CLI, on the
// pure-Go engine, exposed to JavaScript as the global object `mnistzip`. It runs inside a Web Worker.
package main

import (
	"runtime"
	"syscall/js"

	"github.com/mnistzip/mnistzip/graphs"
)

var version = "dev" // set with -ldflags "-X main.version=..."

func main() {
	backend, choice, err := graphs.NewBackend("go")
	backendName := choice.String()
	if err != nil {
		backendName = "error: " + err.Error()
	}
	_ = backend

	api := js.Global().Get("Object").New()
	api.Set("version", js.FuncOf(func(js.Value, []js.Value) any {
		info := map[string]any{
			"mnistzip": version,
			"go":       runtime.Version(),
			"gomlx":    graphs.GoMLXVersion(),
			"backend":  backendName,
		}
		return js.ValueOf(info)
	}))
	js.Global().Set("mnistzip", api)
	if ready := js.Global().Get("onMnistzipReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // keep the Go runtime alive for callbacks
}
