package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mnistzip/mnistzip/graphs/service"
)

// TestBrowser drives the demo page in Debian's headless Chromium: `make browser-test` (part of make
// test) builds the wasm, installs Chromium if missing and sets MNISTZIP_BROWSER_TESTS=1; a plain
// `go test` skips it. Screenshots (PNG) of the page and of each panel go to build/browser-test/.
func TestBrowser(t *testing.T) {
	b := newBrowser(t, "MNISTZIP_BROWSER_TESTS", siteHandler("../build/www"), 8*time.Minute)
	b.shots = "../build/browser-test"
	eval, num, waitFor, shot := b.eval, b.num, b.waitFor, b.shot
	ctx := b.ctx

	start := time.Now()
	b.navigate("/")
	waitFor("page ready", `window.mnistzipPage?.state?.ready === true`, 60*time.Second)
	t.Logf("ready %.1f s after navigation (page's own count %.0f ms)", time.Since(start).Seconds(), num(`window.mnistzipPage.state.readyMs`))
	if !eval(`window.mnistzipPage.state.version.gomlx === "v0.26.0" && window.mnistzipPage.state.version.backend.startsWith("go")`) {
		t.Error("the wasm did not report its version")
	}
	// The training menu comes from the registry: its browser models, dense selected.
	want := `["` + strings.Join(service.BrowserModels(), `","`) + `"]`
	if got := b.str(`JSON.stringify([...document.getElementById("tmodel").options].map((o) => o.value))`); got != want || !eval(`document.getElementById("tmodel").value === "dense"`) {
		t.Errorf("training menu %s, want the registry's browser models %s with dense selected", got, want)
	}

	t.Run("VAE explorer and denoising render", func(t *testing.T) {
		waitFor("latent point", `window.mnistzipPage.state.latentPoint`, 60*time.Second)
		waitFor("denoised", `window.mnistzipPage.state.denoised`, 30*time.Second)
		for _, id := range []string{"plane", "decoded", "ddenoised", "dnoisy"} {
			lit := num(`(() => { const c = document.getElementById("` + id + `"), d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
				let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 60 && d[i] < 250 || (d[i] >= 250 && d[i+1] >= 250)) n++; return n / (d.length / 4); })()`)
			if lit < 0.02 || lit > 0.999 {
				t.Errorf("canvas #%s: %.1f%% of pixels lit", id, 100*lit)
			}
		}
	})

	t.Run("test digits pasted into the canvas", func(t *testing.T) {
		for _, i := range []int{0, 1, 2, 3, 4} {
			label := num(`window.mnistzipPage.state.lastPrediction = null; window.mnistzipPage.pasteDigit(` + strconv.Itoa(i) + `)`)
			waitFor("prediction", `window.mnistzipPage.state.lastPrediction`, 20*time.Second)
			if got := num(`window.mnistzipPage.state.lastPrediction.digit`); got != label {
				t.Errorf("test digit %d (a %v) classified as %v", i, label, got)
			}
		}
		t.Logf("paste-to-prediction %.0f ms (the last of 5, worker idle)", num(`window.mnistzipPage.state.lastPrediction.ms`))
	})

	t.Run("a 1-like stroke", func(t *testing.T) {
		eval(`(() => {
			document.getElementById("clear").click();
			window.mnistzipPage.state.lastPrediction = null;
			const pad = document.getElementById("pad"), r = pad.getBoundingClientRect();
			const ev = (type, y) => pad.dispatchEvent(new PointerEvent(type, { pointerId: 1, bubbles: true, clientX: r.left + 145 * r.width / 280, clientY: r.top + y * r.height / 280 }));
			ev("pointerdown", 40);
			for (let y = 50; y <= 240; y += 10) ev("pointermove", y);
			ev("pointerup", 240);
			return true;
		})()`)
		waitFor("prediction", `window.mnistzipPage.state.lastPrediction`, 20*time.Second)
		if got := num(`window.mnistzipPage.state.lastPrediction.digit`); got != 1 {
			t.Errorf("a vertical stroke classified as %v", got)
		}
		ms := num(`window.mnistzipPage.state.lastPrediction.ms`)
		t.Logf("stroke-to-prediction %.0f ms", ms)
		// The target is 50 ms (met on an idle machine, see make browser-bench); a second means the
		// classifier was recompiled or the worker was busy: a regression, whatever the machine.
		if ms > 1000 {
			t.Errorf("stroke-to-prediction took %.0f ms", ms)
		}
		shot("draw")
	})

	t.Run("training in the worker: loss falls, frames keep coming, stop works, weights survive a reload", func(t *testing.T) {
		eval(`document.getElementById("tmodel").value = "dense"; document.getElementById("tepochs").value = 1; document.getElementById("tbatch").value = 50; document.getElementById("tstart").click(); true`)
		waitFor("training done", `window.mnistzipPage.state.training?.done === true`, 3*time.Minute)
		if e := num(`window.mnistzipPage.state.training.error ? 1 : 0`); e != 0 {
			t.Fatal("training failed")
		}
		first, last := num(`window.mnistzipPage.state.training.losses[0]`), num(`window.mnistzipPage.state.training.losses.at(-1)`)
		frames := num(`window.mnistzipPage.state.frames - window.mnistzipPage.state.training.framesAtStart`)
		gap := num(`window.mnistzipPage.state.training.maxGap`)
		ms := num(`window.mnistzipPage.state.training.last.msPerStep`)
		t.Logf("dense AE, 18 steps of 50: loss %.4f → %.4f, %.0f ms/step, %v frames drawn, longest frame gap %.0f ms", first, last, ms, frames, gap)
		if !(last < first) || frames < 10 {
			t.Errorf("loss %.4f → %.4f, %v frames during training", first, last, frames)
		}
		shot("train")
		// Stop: a long run, stopped after a few steps.
		eval(`document.getElementById("tepochs").value = 20; document.getElementById("tstart").click(); true`)
		waitFor("some steps", `(window.mnistzipPage.state.training?.losses?.length ?? 0) >= 3 && !window.mnistzipPage.state.training.done`, time.Minute)
		eval(`document.getElementById("tstop").click(); true`)
		waitFor("stopped", `window.mnistzipPage.state.training.done === true`, time.Minute)
		if !eval(`window.mnistzipPage.state.training.info?.stopped === true && window.mnistzipPage.state.training.losses.length < 18 * 20`) {
			t.Error("stop did not end the run early")
		}
		// Every panel as it looks after use (the reload below starts the page afresh).
		for _, panel := range []string{"draw", "train", "latent", "denoise", "codec", "engine"} {
			b.shotElement("panel-"+panel, "#"+panel)
		}
		// Save in IndexedDB, reload the page, load it back.
		eval(`document.getElementById("tsave").click(); true`)
		waitFor("saved", `window.mnistzipPage.state.saved?.model === "dense"`, 20*time.Second)
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitFor("ready again", `window.mnistzipPage?.state?.ready === true`, 60*time.Second)
		eval(`document.getElementById("tload").click(); true`)
		waitFor("reloaded", `window.mnistzipPage.state.reloaded?.model === "dense"`, 20*time.Second)
	})

	waitFor("latent explorer after the reload", `window.mnistzipPage.state.latentPoint`, time.Minute)
	shot("page")
	b.checkConsole()
}
