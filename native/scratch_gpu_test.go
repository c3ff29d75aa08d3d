package main

import (
	"testing"
	"time"
)

func TestScratchGPU(t *testing.T) {
	b := newBrowser(t, "MNISTZIP_BROWSER_TESTS", siteHandler("../build/www"), 8*time.Minute)
	b.navigate("/")
	b.waitFor("page ready", `window.mnistzipPage?.state?.ready === true`, 2*time.Minute)
	b.eval(`window.mnistzipPage.call("gpuCheck", [{profile: 3}]).then((r) => window.scratch = r, (e) => window.scratch = {error: e.message}); true`)
	b.waitFor("scratch", `window.scratch`, 6*time.Minute)
	t.Log(b.str(`window.scratch.error ?? ("total " + window.scratch.profile.reduce((a, p) => a + p.ms, 0).toFixed(1) + " ms\n" + window.scratch.profile.slice(0, 30).map((p) => p.ms.toFixed(1) + " ms " + p.count + "× " + p.label).join("\n"))`))
}
