package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
		Note     string  `json:"note"`
		Error    string  `json:"error"`
	} `json:"rows"`
}

// TestBrowserBench times the same small models in one headless Chromium: mnistzip's wasm in a Web
// Worker (as the demo page runs it) and on its WebGPU backend, and TensorFlow.js on its webgpu, wasm and
// cpu backends. `make bench`
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
	ours, gpu := map[string]float64{}, map[string]float64{}
	for _, r := range res.Rows {
		if r.Runtime == "mnistzip wasm" && r.Error == "" {
			ours[r.Workload] = r.Ms
		}
		if r.Runtime == "mnistzip WebGPU" && r.Error == "" {
			gpu[r.Workload] = r.Ms
		}
	}
	ratio := func(ms, to float64) string {
		if to == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f", ms/to)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "| workload | runtime | ms | × mnistzip wasm | × mnistzip WebGPU |\n|---|---|---|---|---|\n")
	for _, r := range res.Rows {
		note := ""
		if r.Note != "" {
			note = "; " + r.Note
		}
		if r.Error != "" {
			fmt.Fprintf(&md, "| %s | %s | cannot: %s | | |\n", r.Workload, r.Runtime, r.Error)
			continue
		}
		fmt.Fprintf(&md, "| %s | %s | %.1f (median of %d%s) | %s | %s |\n", r.Workload, r.Runtime, r.Ms, r.Steps, note,
			ratio(r.Ms, ours[r.Workload]), ratio(r.Ms, gpu[r.Workload]))
	}
	// The demo page itself: from the end of a drawn stroke, and from a pasted test digit, to the
	// calibrated prediction on screen (the page's own timer, toMNIST included).
	b.navigate("/")
	b.waitFor("page ready", `window.mnistzipPage?.state?.ready === true`, time.Minute)
	for _, what := range []struct{ name, expr string }{
		{"stroke to prediction (demo page)", `(async () => {
			const ms = [], pad = document.getElementById("pad"), r = pad.getBoundingClientRect();
			const ev = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, { pointerId: 1, bubbles: true,
				clientX: r.left + x * r.width / 280, clientY: r.top + y * r.height / 280 }));
			for (let i = 0; i < 21; i++) {
				document.getElementById("clear").click();
				window.mnistzipPage.state.lastPrediction = null;
				ev("pointerdown", 100 + i, 40);
				for (let y = 50; y <= 240; y += 10) ev("pointermove", 100 + i + y / 8, y);
				ev("pointerup", 130 + i, 240);
				while (!window.mnistzipPage.state.lastPrediction) await new Promise((r) => setTimeout(r, 2));
				ms.push(window.mnistzipPage.state.lastPrediction.ms);
			}
			return ms;
		})()`},
		{"pasted digit to prediction (demo page)", `(async () => {
			const ms = [];
			for (let i = 0; i < 21; i++) {
				window.mnistzipPage.state.lastPrediction = null;
				window.mnistzipPage.pasteDigit(i);
				while (!window.mnistzipPage.state.lastPrediction) await new Promise((r) => setTimeout(r, 2));
				ms.push(window.mnistzipPage.state.lastPrediction.ms);
			}
			return ms;
		})()`},
	} {
		ms := evalAs[[]float64](b, what.expr)
		first := ms[0]
		slices.Sort(ms)
		fmt.Fprintf(&md, "| %s | mnistzip wasm | %.1f (median of %d; first %.1f, max %.1f) | | |\n", what.name, ms[len(ms)/2], len(ms), first, ms[len(ms)-1])
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
	if len(ours) != 5 || len(gpu) != 2 {
		t.Errorf("mnistzip's own rows failed: %s", raw)
	}
	b.checkConsole()
}
