package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
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

type serveOptions struct {
	addr, wasmDir string
}

func init() {
	register(&command{
		name:    "serve",
		summary: "Serve the demo page (embedded) and the WebAssembly build (from --wasm-dir), static files only.",
		usage:   "[--addr 127.0.0.1:8080] [--wasm-dir build/www]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o serveOptions
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (loopback by default)")
			fs.StringVar(&o.wasmDir, "wasm-dir", "build/www", "folder with mnistzip.wasm and wasm_exec.js (make wasm); links out of it are not followed")
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("serve takes no arguments")
				}
				if _, err := os.Stat(path.Join(o.wasmDir, "mnistzip.wasm")); err != nil {
					return nil, fmt.Errorf("%s/mnistzip.wasm missing: run \"make wasm\" first", o.wasmDir)
				}
				return func() error { return runServe(o) }, nil
			}
		},
	})
}

func runServe(o serveOptions) error {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "serving http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	srv := &http.Server{Handler: siteHandler(o.wasmDir), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

// contentSecurityPolicy allows what the page does and nothing more: its own scripts, styles and
// worker, WebAssembly compilation ('wasm-unsafe-eval', not 'unsafe-eval'), fetches of its own data
// and weights, data: and blob: images (the favicon, canvases), no plugins, no framing, no forms.
const contentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// siteHeaders go with every response. COOP and COEP make the page cross-origin isolated, which
// SharedArrayBuffer (wasm threads) needs; the page loads nothing from other origins, so require-corp
// costs nothing.
var siteHeaders = map[string]string{
	"Content-Security-Policy":      contentSecurityPolicy,
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Embedder-Policy": "require-corp",
	"Cross-Origin-Resource-Policy": "same-origin",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	// Every file keeps its name across rebuilds (mnistzip.wasm), so caches revalidate each time:
	// the ETag makes that a 304 when nothing changed.
	"Cache-Control": "no-cache",
}

// siteHandler serves the embedded page and the wasm folder: GET/HEAD only, no directory listings, no
// hidden files, no symbolic links leading out of wasmDir, .wasm as application/wasm
// (instantiateStreaming needs it), gzip when the client accepts it. ETags are weak: one tag covers
// the gzip and identity encodings of the same bytes.
func siteHandler(wasmDir string) http.Handler {
	_ = mime.AddExtensionType(".wasm", "application/wasm")
	_ = mime.AddExtensionType(".mz", mzContentType)
	embeddedTags := map[string]string{} // the embedded files never change: hash them once
	_ = fs.WalkDir(www.Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if data, err := fs.ReadFile(www.Files, name); err == nil {
				sum := sha256.Sum256(data)
				embeddedTags[name] = `W/"` + hex.EncodeToString(sum[:12]) + `"`
			}
		}
		return nil
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for k, v := range siteHeaders {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if !fs.ValidPath(name) || strings.HasPrefix(name, ".") || strings.Contains(name, "/.") {
			http.NotFound(w, r)
			return
		}
		if tag, ok := embeddedTags[name]; ok {
			f, err := www.Files.Open(name)
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			defer f.Close()
			w.Header().Set("ETag", tag)
			http.ServeContent(w, r, name, time.Time{}, f.(io.ReadSeeker))
			return
		}
		serveFromDir(w, r, wasmDir, name)
	})
	// .mz files are compressed already: gzip would cost the server time and the page nothing, and
	// the bytes the page reports as transferred are then the .mz's own.
	gzip, err := gzhttp.NewWrapper(gzhttp.ExceptContentTypes([]string{mzContentType}))
	if err != nil {
		panic(err) // the options are constants
	}
	return gzip(mux)
}

// mzContentType is what .mz files are served as.
const mzContentType = "application/vnd.mnistzip"

// serveFromDir serves dir/name through an os.Root, which follows symbolic links only while they
// stay inside dir. The folder is opened per request, so a rebuild that replaces it is picked up.
func serveFromDir(w http.ResponseWriter, r *http.Request, dir, name string) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil { // missing, or a link out of dir: either way nothing to serve
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`W/"%x-%x"`, info.Size(), info.ModTime().UnixNano()))
	http.ServeContent(w, r, name, info.ModTime(), f)
}
