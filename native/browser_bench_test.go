package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// browserBenchResult is what window.runBench() in bench/browser/bench.js resolves to.
type browserBenchResult struct {
	Env  map[string]any `json:"env"`
	Rows []struct {
		Workload string  `json:"workload"`
		Runtime  string  `json:"runtime"`
		Ms       float64 `json:"ms"`
		Steps    int     `json:"steps"`
		Error    string  `json:"error"`
	} `json:"rows"`
}

// TestBrowserBench times the same small models in one headless Chromium: mnistzip's wasm in a Web
// Worker (as the demo page runs it) and TensorFlow.js on its cpu and wasm backends. `make bench`
// installs TensorFlow.js (npm, never in make test), sets MNISTZIP_BROWSER_BENCH=1 and runs it; the
// table goes to stdout and build/bench/browser.{json,md}.
func TestBrowserBench(t *testing.T) {
	tfjs := "bench/node_modules/@tensorflow"
	mux := http.NewServeMux()
	mux.Handle("/bench/", http.StripPrefix("/bench/", http.FileServer(http.Dir("bench/browser"))))
	mux.Handle("/tfjs/", http.StripPrefix("/tfjs/", http.FileServer(http.Dir(tfjs))))
	mux.Handle("/", siteHandler("../build/www"))
	b := newBrowser(t, "MNISTZIP_BROWSER_BENCH", mux, 20*time.Minute)
	if _, err := os.Stat(filepath.Join(tfjs, "tfjs/dist/tf.min.js")); err != nil {
		t.Fatal("TensorFlow.js is not installed: make bench runs npm install in native/bench")
	}
	b.navigate("/bench/bench.html")
	b.waitFor("bench page", `typeof window.runBench === "function" && typeof tf === "object"`, time.Minute)
	raw := b.str(`window.runBench().then((r) => JSON.stringify(r))`)
	var res browserBenchResult
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	ours := map[string]float64{}
	for _, r := range res.Rows {
		if r.Runtime == "mnistzip wasm" && r.Error == "" {
			ours[r.Workload] = r.Ms
		}
	}
	var md strings.Builder
	fmt.Fprintf(&md, "| workload | runtime | ms | × mnistzip |\n|---|---|---|---|\n")
	for _, r := range res.Rows {
		switch {
		case r.Error != "":
			fmt.Fprintf(&md, "| %s | %s | cannot: %s | |\n", r.Workload, r.Runtime, r.Error)
		case r.Runtime == "mnistzip wasm":
			fmt.Fprintf(&md, "| %s | %s | %.1f (median of %d) | 1 |\n", r.Workload, r.Runtime, r.Ms, r.Steps)
		default:
			fmt.Fprintf(&md, "| %s | %s | %.1f (median of %d) | %.2f |\n", r.Workload, r.Runtime, r.Ms, r.Steps, r.Ms/ours[r.Workload])
		}
	}
	env, _ := json.Marshal(res.Env)
	fmt.Fprintf(&md, "\n%s\n", env)
	fmt.Print(md.String())
	os.MkdirAll("../build/bench", 0o755)
	if err := os.WriteFile("../build/bench/browser.json", []byte(raw), 0o644); err != nil {
		t.Error(err)
	}
	if err := os.WriteFile("../build/bench/browser.md", []byte(md.String()), 0o644); err != nil {
		t.Error(err)
	}
	if len(ours) != 3 {
		t.Errorf("mnistzip's own rows failed: %s", raw)
	}
	b.checkConsole()
}
