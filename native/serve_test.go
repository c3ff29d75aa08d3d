package main

import (
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
