package main

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/www"
)

func init() {
	register(&command{
		name:    "serve",
		summary: "Serve the demo page (embedded) and the WebAssembly build (from --wasm-dir), static files only.",
		usage:   "[--addr 127.0.0.1:8080] [--wasm-dir build/www]",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback by default)")
			wasmDir := fs.String("wasm-dir", "build/www", "folder with mnistzip.wasm and wasm_exec.js (make wasm)")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("serve takes no arguments")
				}
				if _, err := os.Stat(path.Join(*wasmDir, "mnistzip.wasm")); err != nil {
					return fmt.Errorf("%s/mnistzip.wasm missing: run \"make wasm\" first", *wasmDir)
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "serving http://%s/ (Ctrl-C to stop)\n", ln.Addr())
				srv := &http.Server{Handler: siteHandler(*wasmDir), ReadHeaderTimeout: 10 * time.Second}
				return srv.Serve(ln)
			}
		},
	})
}

// siteHandler serves the embedded page and the wasm folder: GET/HEAD only, no directory listings,
// .wasm as application/wasm (instantiateStreaming needs it), gzip when the client accepts it.
func siteHandler(wasmDir string) http.Handler {
	_ = mime.AddExtensionType(".wasm", "application/wasm")
	embedded := http.FileServerFS(www.Files)
	disk := http.FileServer(http.Dir(wasmDir))
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if _, err := fs.Stat(www.Files, name); err == nil {
			embedded.ServeHTTP(w, r)
			return
		} else if !errors.Is(err, fs.ErrNotExist) {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if info, err := os.Stat(path.Join(wasmDir, name)); err == nil && !info.IsDir() {
			disk.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	return gzhttp.GzipHandler(mux)
}
