package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/service"
)

// idxBytes is an IDX file as the codec restores it: gunzipped if it was gzip-compressed.
func idxBytes(path string) ([]byte, error) {
	h, data, err := idx.ReadFile(path)
	if err != nil {
		return nil, err
	}
	head, err := h.MarshalBinary()
	return append(head, data...), err
}

// TestBrowser drives the demo page in Debian's headless Chromium: `make browser-test` (part of make
// test) builds the wasm, installs Chromium if missing and sets MNISTZIP_BROWSER_TESTS=1; a plain
// `go test` skips it. Screenshots (PNG) of the page and of each panel go to build/browser-test/.
func TestBrowser(t *testing.T) {
	b := newBrowser(t, "MNISTZIP_BROWSER_TESTS", siteHandler("../build/www"), 12*time.Minute)
	b.shots = "../build/browser-test"
	eval, num, waitFor, shot := b.eval, b.num, b.waitFor, b.shot
	ctx := b.ctx

	start := time.Now()
	b.navigate("/")
	waitFor("page ready", `window.mnistzipPage?.state?.ready === true`, 2*time.Minute)
	t.Logf("ready %.1f s after navigation (page's own count %.0f ms; the data %.0f ms, decoded from .mz; longest frame gap while loading %.0f ms)",
		time.Since(start).Seconds(), num(`window.mnistzipPage.state.readyMs`), num(`window.mnistzipPage.state.dataReadyMs`), num(`window.mnistzipPage.state.gaps.data`))
	if !eval(`window.mnistzipPage.state.version.gomlx === "v0.26.0" && window.mnistzipPage.state.version.backend.startsWith("go")`) {
		t.Error("the wasm did not report its version")
	}
	// The training menu comes from the registry: its browser models at each size, the tiny CNN selected.
	var want []string
	for _, m := range service.Models() {
		if !m.Train {
			continue
		}
		if len(m.Sizes) == 0 {
			want = append(want, m.Name)
		}
		for _, size := range m.Sizes {
			want = append(want, m.Name+":"+size)
		}
	}
	if got := b.str(`JSON.stringify([...document.getElementById("tmodel").options].map((o) => o.value))`); got != `["`+strings.Join(want, `","`)+`"]` ||
		!eval(`document.getElementById("tmodel").value === "cnn:tiny"`) {
		t.Errorf("training menu %s, want the registry's browser models %v with cnn:tiny selected", got, want)
	}

	t.Run("all of MNIST decoded in the page, counted as the files count", func(t *testing.T) {
		for _, split := range []mnist.Split{mnist.Train, mnist.Test} {
			set, err := mnist.Load("../"+mnist.DefaultDir, split)
			if err != nil {
				t.Fatal(err)
			}
			name := map[mnist.Split]string{mnist.Train: "train", mnist.Test: "test"}[split]
			hist, _ := json.Marshal(mnist.Histogram(set.Labels))
			got := b.str(`JSON.stringify(window.mnistzipPage.state.data.` + name + `)`)
			if wantJSON := fmt.Sprintf(`{"name":"%s","n":%d,"histogram":%s}`, name, set.N, hist); got != wantJSON {
				t.Errorf("split %s in the page: %s, want %s", name, got, wantJSON)
			}
		}
		if !eval(`window.mnistzipPage.state.data.files.every((f) => f.source === "network" && f.transferred === f.mzBytes && f.mzBytes < f.gzipBytes)`) {
			t.Errorf("first load: %s", b.str(`JSON.stringify(window.mnistzipPage.state.data.files)`))
		}
		if !eval(`window.mnistzipPage.state.test.images.length === 10000 * 784`) {
			t.Error("the page did not get the 10,000 test digits")
		}
		b.shotElement("panel-data", "#data")
	})

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

	t.Run("training on the full set: test accuracy rises, frames keep coming, the pad takes the model", func(t *testing.T) {
		// One short epoch (4,000 digits; 1,000 held out for temperature scaling), probed every 40 steps.
		eval(`window.mnistzipPage.trainWith({ epochs: 1, batch: 32, limit: 4000, val: 1000, probeEvery: 40 }); true`)
		waitFor("training done", `window.mnistzipPage.state.training?.done === true`, 4*time.Minute)
		if e := b.str(`window.mnistzipPage.state.training.error ?? ""`); e != "" {
			t.Fatal("training failed: ", e)
		}
		probes := evalAs[[]struct {
			Done     int     `json:"done"`
			N        int     `json:"n"`
			Accuracy float64 `json:"accuracy"`
			EpochEnd bool    `json:"epochEnd"`
		}](b, `window.mnistzipPage.state.training.probes`)
		gap := num(`window.mnistzipPage.state.gaps.training`)
		ms := num(`window.mnistzipPage.state.training.last.msPerStep`)
		t.Logf("tiny CNN on %s, 125 steps of 32: %.0f ms/step; test probes %+v; longest frame gap %.0f ms",
			b.str(`window.mnistzipPage.state.training.spec.backend || "the wasm engine"`), ms, probes, gap)
		// Headless Chromium here has a WebGPU adapter (SwiftShader): the page offers it first and uses it.
		if !eval(`window.mnistzipPage.state.training.spec.backend === "webgpu" && document.getElementById("tdevice").options[0].textContent.startsWith("WebGPU")`) {
			t.Errorf("the page did not train on WebGPU (device menu: %s)", b.str(`document.getElementById("tdevice").textContent`))
		}
		if len(probes) != 4 || probes[3].N != 10000 || !probes[3].EpochEnd || !(probes[3].Accuracy > probes[0].Accuracy && probes[3].Accuracy > 0.8) {
			t.Errorf("test accuracy did not rise as probed: %+v", probes)
		}
		if gap > 250 {
			t.Errorf("a frame waited %.0f ms while the worker trained", gap)
		}
		if n := num(`document.querySelectorAll("#gallery canvas").length`); n < 1 || num(`document.querySelectorAll("#confusion td").length`) != 100 {
			t.Errorf("confusion matrix or gallery missing (%v misclassified digits shown)", n)
		}
		if !eval(`window.mnistzipPage.state.adopted?.model === "cnn" && window.mnistzipPage.state.padModel.label.startsWith("your cnn") && window.mnistzipPage.state.training.info.calibration.temperature > 0`) {
			t.Error("the drawing pad did not take the trained, calibrated model")
		}
		label := num(`window.mnistzipPage.state.lastPrediction = null; window.mnistzipPage.pasteDigit(0)`)
		waitFor("prediction with the trained model", `window.mnistzipPage.state.lastPrediction`, 20*time.Second)
		if got := num(`window.mnistzipPage.state.lastPrediction.digit`); got != label {
			t.Errorf("the trained model calls test digit 0 (a %v) a %v", label, got)
		}
		shot("train")
		// Stop a long run after a few steps, resume it, stop again: on the wasm engine this time.
		eval(`document.getElementById("tdevice").value = ""; document.getElementById("tepochs").value = 2; document.getElementById("tstart").click(); true`)
		waitFor("some steps", `(window.mnistzipPage.state.training?.losses?.length ?? 0) >= 5 && !window.mnistzipPage.state.training.done`, time.Minute)
		eval(`document.getElementById("tstop").click(); true`)
		waitFor("stopped", `window.mnistzipPage.state.training.done === true`, time.Minute)
		stoppedAt := num(`window.mnistzipPage.state.training.losses.length`)
		if !eval(`window.mnistzipPage.state.training.info?.stopped === true && !document.getElementById("tresume").disabled`) {
			t.Fatal("stop did not end the run early, or resume is not offered")
		}
		eval(`document.getElementById("tresume").click(); true`)
		waitFor("resumed steps", `!window.mnistzipPage.state.training.done && window.mnistzipPage.state.training.losses.length >= `+strconv.Itoa(int(stoppedAt)+5), time.Minute)
		if !eval(`window.mnistzipPage.state.training.last.done > ` + strconv.Itoa(int(stoppedAt))) {
			t.Error("the resumed run started over instead of continuing")
		}
		eval(`document.getElementById("tstop").click(); true`)
		waitFor("stopped again", `window.mnistzipPage.state.training.done === true`, time.Minute)
		// Save in IndexedDB (checked after the reload below).
		eval(`document.getElementById("tsave").click(); true`)
		waitFor("saved", `window.mnistzipPage.state.saved?.model === "cnn"`, 20*time.Second)
	})

	t.Run("codec panel: round trips byte for byte, errors are one line and download nothing", func(t *testing.T) {
		upload := func(path string) {
			t.Helper()
			abs, _ := filepath.Abs(path)
			eval(`window.mnistzipPage.state.codecResult = null; true`)
			if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.CSS("#codecfile"), []string{abs})); err != nil {
				t.Fatal(err)
			}
			waitFor("codec "+filepath.Base(path), `window.mnistzipPage.state.codecResult?.done === true`, 2*time.Minute)
		}
		for _, path := range []string{"../testdata/t10k-1000-images-idx3-ubyte", "../" + mnist.DefaultDir + "/t10k-labels-idx1-ubyte.gz"} {
			upload(path)
			if e := b.str(`window.mnistzipPage.state.codecResult.error ?? ""`); e != "" {
				t.Fatalf("%s: %s", path, e)
			}
			eval(`window.mnistzipPage.state.codecResult.roundTrip = null; document.getElementById("codecverify").click(); true`)
			waitFor("round trip", `window.mnistzipPage.state.codecResult.roundTrip`, time.Minute)
			raw, err := idxBytes(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(raw)
			if got := b.str(`window.mnistzipPage.state.codecResult.roundTrip.sha256`); got != hex.EncodeToString(sum[:]) || !eval(`!document.getElementById("codecdownload").hidden`) {
				t.Errorf("%s: restored SHA-256 %s, the file's %x", path, got, sum)
			}
			t.Logf("%s: %s", filepath.Base(path), b.str(`document.getElementById("codecstatus").textContent`))
		}
		b.shotElement("panel-codec", "#codec")
		// A .mz restored: the golden file decodes to the 1,000 test digits.
		upload("../testdata/golden-v2.mz")
		raw, _ := os.ReadFile("../testdata/t10k-1000-images-idx3-ubyte")
		sum := sha256.Sum256(raw)
		if got := b.str(`window.mnistzipPage.state.codecResult.outSha256 ?? window.mnistzipPage.state.codecResult.error`); got != hex.EncodeToString(sum[:]) {
			t.Errorf("golden-v2.mz restored to %s, want %x", got, sum)
		}
		// Bad input: a corrupt .mz and a file that is no IDX.
		golden, _ := os.ReadFile("../testdata/golden-v2.mz")
		corrupt := append([]byte(nil), golden...)
		corrupt[len(corrupt)/2] ^= 0x40
		dir := t.TempDir()
		for name, data := range map[string][]byte{"corrupt.mz": corrupt, "notes.txt": []byte("these are not digits\n")} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			upload(path)
			line := b.str(`document.getElementById("codecstatus").textContent`)
			if e := b.str(`window.mnistzipPage.state.codecResult.error ?? ""`); e == "" || strings.Contains(line, "\n") ||
				!eval(`document.getElementById("codecdownload").hidden && !document.getElementById("codecdownload").href`) {
				t.Errorf("%s: error %q, status %q, or a download was offered", name, e, line)
			}
			t.Logf("%s: %s", name, line)
		}
	})

	t.Run("WebGPU backend on SwiftShader: ops agree with the engine, gradients with finite differences, the CNN trains", func(t *testing.T) {
		eval(`document.getElementById("gpucheck").click(); true`)
		waitFor("WebGPU check", `window.mnistzipPage.state.gpu`, 5*time.Minute)
		if e := b.str(`window.mnistzipPage.state.gpu.error ?? ""`); e != "" {
			t.Fatal("no WebGPU (headless Chromium with --enable-unsafe-webgpu gives SwiftShader here): ", e)
		}
		t.Logf("%s", b.str(`document.getElementById("gpuinfo").textContent`))
		var r struct {
			Adapter struct{ Architecture string }
			Ops     []struct {
				Name                string
				MaxError, Tolerance float64
				OK                  bool
				Error               string
			}
			Gradient struct {
				MaxError float64
				OK       bool
				Error    string
			}
			Train *struct {
				LossFirst, LossLast, StepMs, EngineStepMs, InferMs, EngineInferMs, Accuracy float64
				Agree, Compared                                                             int
			}
			TrainError string
		}
		if err := json.Unmarshal([]byte(b.str(`JSON.stringify(window.mnistzipPage.state.gpu)`)), &r); err != nil {
			t.Fatal(err)
		}
		for _, o := range r.Ops {
			if !o.OK {
				t.Errorf("%s: relative error %g (tolerance %g) %s", o.Name, o.MaxError, o.Tolerance, o.Error)
			}
		}
		if len(r.Ops) < 30 {
			t.Errorf("%d op cases ran", len(r.Ops))
		}
		if !r.Gradient.OK {
			t.Errorf("gradient against finite differences: %+v", r.Gradient)
		}
		if r.Train == nil {
			t.Fatal("training on WebGPU: ", r.TrainError)
		}
		if !(r.Train.LossLast < 0.7*r.Train.LossFirst) {
			t.Errorf("training on WebGPU: loss %.3f → %.3f", r.Train.LossFirst, r.Train.LossLast)
		}
		// Float32 sums in another order can flip a digit whose two best scores tie to ~1e-5.
		if r.Train.Agree < r.Train.Compared-2 {
			t.Errorf("WebGPU and the engine classify %d of %d test digits alike", r.Train.Agree, r.Train.Compared)
		}
	})

	t.Run("a reload takes the data from the cache, and the saved weights", func(t *testing.T) {
		// Every panel as it looks after use (the reload starts the page afresh).
		for _, panel := range []string{"draw", "train", "latent", "denoise", "engine"} {
			b.shotElement("panel-"+panel, "#"+panel)
		}
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitFor("ready again", `window.mnistzipPage?.state?.ready === true`, time.Minute)
		t.Logf("after the reload: data ready %.0f ms after navigation, page ready %.0f ms", num(`window.mnistzipPage.state.dataReadyMs`), num(`window.mnistzipPage.state.readyMs`))
		if !eval(`window.mnistzipPage.state.data.files.every((f) => f.source === "cache" && f.transferred === 0) && window.mnistzipPage.state.data.train.n === 60000`) {
			t.Errorf("after a reload: %s", b.str(`JSON.stringify(window.mnistzipPage.state.data.files)`))
		}
		eval(`document.getElementById("tload").click(); true`)
		waitFor("reloaded", `window.mnistzipPage.state.reloaded?.model === "cnn"`, 20*time.Second)
	})

	waitFor("latent explorer after the reload", `window.mnistzipPage.state.latentPoint`, time.Minute)
	shot("page")
	b.checkConsole()
}

// TestBrowserNoWebGPU opens the page in a Chromium without WebGPU (no --enable-unsafe-webgpu: no
// adapter): training is offered on the wasm engine only, the engine panel says why, and the WebGPU
// check reports the absence in one line. (make browser-test runs it with TestBrowser.)
func TestBrowserNoWebGPU(t *testing.T) {
	b := newBrowser(t, "MNISTZIP_BROWSER_TESTS", siteHandler("../build/www"), 3*time.Minute,
		chromedp.Flag("enable-unsafe-webgpu", false))
	b.navigate("/")
	b.waitFor("page ready", `window.mnistzipPage?.state?.ready === true`, 2*time.Minute)
	b.waitFor("WebGPU probed", `window.mnistzipPage.state.webgpu && document.getElementById("versions").textContent.includes("training")`, 30*time.Second)
	if got := b.str(`JSON.stringify([...document.getElementById("tdevice").options].map((o) => o.value))`); got != `[""]` {
		t.Errorf("device menu without WebGPU: %s, want the wasm engine only", got)
	}
	if v := b.str(`document.getElementById("versions").textContent`); !strings.Contains(v, "the wasm engine (no WebGPU") {
		t.Errorf("engine panel: %q", v)
	}
	b.eval(`document.getElementById("gpucheck").click(); true`)
	b.waitFor("WebGPU check", `window.mnistzipPage.state.gpu`, 30*time.Second)
	if e := b.str(`window.mnistzipPage.state.gpu.error ?? ""`); e == "" || strings.Contains(e, "\n") {
		t.Errorf("the WebGPU check without WebGPU: %q, want one error line", e)
	}
	t.Logf("%s", b.str(`document.getElementById("gpuinfo").textContent`))
	b.checkConsole()
}
