package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is one headless Chromium tab on a local test server, shared by the browser tests and the
// browser benchmark: evaluation helpers that fail the test with the page's status line, console
// errors collected for a final check, screenshots to a folder.
type browser struct {
	t        *testing.T
	ctx      context.Context
	url      string
	shots    string
	mu       sync.Mutex
	problems []string
}

// newBrowser serves handler on loopback and opens Debian's Chromium, headless, on it. The test is
// skipped unless the environment variable gate is set (the Makefile targets set it).
func newBrowser(t *testing.T, gate string, handler http.Handler, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) *browser {
	if os.Getenv(gate) == "" {
		t.Skipf("set %s=1 (see the Makefile) to run this in headless Chromium", gate)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not installed (make browser-test installs Debian's)")
	}
	if _, err := os.Stat(filepath.Join("../build/www", "mnistzip.wasm")); err != nil {
		t.Fatal("run make wasm first")
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 2400),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// WebGPU on SwiftShader (Vulkan on the CPU): headless Chromium here has no GPU.
		chromedp.Flag("enable-unsafe-webgpu", true)}
	// extra options come last and win (Flag("enable-unsafe-webgpu", false): a browser with no WebGPU).
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, url: srv.URL}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.problems = append(b.problems, m.String())
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) navigate(path string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.url+path)); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) eval(expr string) bool {
	b.t.Helper()
	return evalAs[bool](b, expr)
}

func (b *browser) num(expr string) float64 {
	b.t.Helper()
	return evalAs[float64](b, expr)
}

func (b *browser) str(expr string) string {
	b.t.Helper()
	return evalAs[string](b, expr)
}

// evalAs evaluates expr in the page, awaiting a promise, and decodes its JSON value as T.
func evalAs[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitFor polls expr until it is truthy; on timeout the test fails with the page's status line.
func (b *browser) waitFor(what, expr string, timeout time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		status, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("status")?.textContent ?? ""`))
		b.t.Fatalf("%s: %v (page status %q)", what, err, status)
	}
}

// shot writes a full-page PNG screenshot to the shots folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	os.MkdirAll(b.shots, 0o755)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// shotElement writes a PNG screenshot of the first element matching the CSS selector.
func (b *browser) shotElement(name, selector string) {
	b.t.Helper()
	os.MkdirAll(b.shots, 0o755)
	png, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(selector)))
	if err == nil {
		err = os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644)
	}
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// checkConsole fails the test for every console error or uncaught exception the page logged.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		if !strings.Contains(p, "favicon") {
			b.t.Errorf("console: %s", p)
		}
	}
}
