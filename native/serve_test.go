package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSiteHandler(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mnistzip.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
		contentType  string
	}{
		{"GET", "/", 200, "text/html"},
		{"GET", "/app.js", 200, "javascript"},
		{"HEAD", "/worker.js", 200, "javascript"},
		{"GET", "/mnistzip.wasm", 200, "application/wasm"},
		{"GET", "/../../etc/passwd", 404, ""},
		{"GET", "/nope.txt", 404, ""},
		{"POST", "/", 405, ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if tc.contentType != "" && !strings.Contains(resp.Header.Get("Content-Type"), tc.contentType) {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, resp.Header.Get("Content-Type"), tc.contentType)
		}
	}
}

func get(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gzip: the test sees what is sent
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestSiteHeaders: every file comes with a Content-Security-Policy that lets the page compile
// WebAssembly and start its worker, cross-origin isolation, revalidation and an ETag that turns a
// repeated request into a 304, for the embedded page and the wasm folder, gzip or not.
func TestSiteHeaders(t *testing.T) {
	dir := t.TempDir()
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), make([]byte, 4000)...)
	if err := os.WriteFile(filepath.Join(dir, "mnistzip.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	for _, p := range []string{"/", "/index.html", "/app.js", "/worker.js", "/style.css", "/mnistzip.wasm"} {
		for _, enc := range []string{"", "gzip"} {
			resp := get(t, srv.URL+p, map[string]string{"Accept-Encoding": enc})
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d", p, resp.StatusCode)
			}
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "'wasm-unsafe-eval'", "worker-src 'self'", "connect-src 'self'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
				}
			}
			if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "'unsafe-inline'") {
				t.Errorf("GET %s: CSP %q allows eval or inline code", p, csp)
			}
			for k, want := range map[string]string{"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"} {
				if got := h.Get(k); got != want {
					t.Errorf("GET %s: %s %q, want %q", p, k, got, want)
				}
			}
			tag := h.Get("ETag")
			if tag == "" {
				t.Errorf("GET %s (encoding %q): no ETag", p, enc)
				continue
			}
			if p == "/mnistzip.wasm" && enc == "gzip" {
				body := resp.Body
				if h.Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(resp.Body)
					if err != nil {
						t.Fatal(err)
					}
					body = zr
				}
				if got, _ := io.ReadAll(body); string(got) != string(wasm) {
					t.Errorf("GET %s: %d bytes, not the file", p, len(got))
				}
			}
			again := get(t, srv.URL+p, map[string]string{"Accept-Encoding": enc, "If-None-Match": tag})
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match %s: %d, want 304", p, tag, again.StatusCode)
			}
		}
	}
	// A changed file gets a new tag: the old one no longer matches.
	resp := get(t, srv.URL+"/mnistzip.wasm", nil)
	tag := resp.Header.Get("ETag")
	os.WriteFile(filepath.Join(dir, "mnistzip.wasm"), append(wasm, 1), 0o644)
	if again := get(t, srv.URL+"/mnistzip.wasm", map[string]string{"If-None-Match": tag}); again.StatusCode != 200 {
		t.Errorf("rebuilt wasm with the old ETag: %d, want 200", again.StatusCode)
	}
}

// TestSiteHandlerStaysInWasmDir: a link in the wasm folder that leads out of it, or a hidden file,
// is not served; a link to a file inside the folder is.
func TestSiteHandlerStaysInWasmDir(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(dir, "mnistzip.wasm"), []byte("\x00asm"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden"), []byte("hidden"), 0o644)
	os.Mkdir(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "digits.mz"), []byte("mz"), 0o644)
	for link, to := range map[string]string{
		"leak.txt":      secret,
		"rel.txt":       "../" + filepath.Base(outside) + "/secret.txt",
		"out":           outside,
		"data/leak.txt": secret,
		"alias.wasm":    "mnistzip.wasm",
		"data/up.mz":    "../data/digits.mz",
	} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	for p, want := range map[string]int{
		"/leak.txt": 404, "/rel.txt": 404, "/out/secret.txt": 404, "/data/leak.txt": 404, "/.hidden": 404,
		"/data/digits.mz": 200, "/alias.wasm": 200, "/data/up.mz": 200, "/data/": 404, "/data": 404,
	} {
		resp := get(t, srv.URL+p, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", p, resp.StatusCode, want)
		}
		if strings.Contains(string(body), "secret") || strings.Contains(string(body), "hidden") {
			t.Errorf("GET %s served %q", p, body)
		}
	}
}

// TestExitCodes checks the CLI's contract: 0 ok, 1 failure, 2 usage.
func TestExitCodes(t *testing.T) {
	var out, errOut strings.Builder
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, exitOK},
		{[]string{}, exitUsage},
		{[]string{"nosuchcommand"}, exitUsage},
		{[]string{"info"}, exitUsage},
		{[]string{"info", "--nosuchflag", "x"}, exitUsage},
		{[]string{"info", "--help"}, exitOK},
		{[]string{"info", "../testdata/t10k-1000-labels-idx1-ubyte"}, exitOK},
		{[]string{"info", "/nonexistent/file"}, exitFailure},
		{[]string{"info", "serve_test.go"}, exitFailure},
	} {
		out.Reset()
		errOut.Reset()
		if got := runMain(tc.args, &out, &errOut); got != tc.code {
			t.Errorf("mnistzip %v: exit %d, want %d (stderr %q)", tc.args, got, tc.code, errOut.String())
		}
		if tc.code == exitFailure && strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
			t.Errorf("mnistzip %v: error output is not one line: %q", tc.args, errOut.String())
		}
	}
}

// TestMzNotGzipped: .mz files go out as they are, even to a client that accepts gzip (they are
// compressed already, and the page reports their size as the bytes transferred).
func TestMzNotGzipped(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("compressible ", 1000) // gzip would shrink it: it must not be applied
	if err := os.WriteFile(filepath.Join(dir, "data", "x.mz"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(siteHandler(dir))
	defer srv.Close()
	resp := get(t, srv.URL+"/data/x.mz", map[string]string{"Accept-Encoding": "gzip"})
	got, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "" || string(got) != body || resp.Header.Get("Content-Type") != mzContentType {
		t.Errorf("served with Content-Encoding %q, Content-Type %q, %d bytes of %d", resp.Header.Get("Content-Encoding"),
			resp.Header.Get("Content-Type"), len(got), len(body))
	}
}
