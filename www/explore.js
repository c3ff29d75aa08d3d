"use strict";
// Part of the page's logic: see app.js for the order the scripts load in and what they share.
// ---- 3. VAE latent explorer ---------------------------------------------------------------------
const plane = $("plane");
const span = 3.5; // the plane shows [−span, span]²
const toPlane = (z) => [(z[0] + span) / (2 * span) * plane.width, (span - z[1]) / (2 * span) * plane.height];
let latents = null;
async function setupLatent() {
  if (!state.vae) { $("latentinfo").textContent = "No VAE weights were served."; return; }
  // In calls of 100 digits, so a drawing's classification can slip in between them.
  const parts = [];
  for (let i = 0; i < 1000; i += 100) parts.push(await trainer.call("encode", ["vae", testDigits(i, 100), 100]));
  latents = new Float32Array(2000);
  parts.forEach((p, k) => latents.set(p, k * 200));
  drawPlane(null);
  await decodeAt([latents[0], latents[1]]); // where the first test digit (a 7) lands: a recognizable start
}
function drawPlane(point) {
  const ctx = plane.getContext("2d");
  ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, plane.width, plane.height);
  ctx.strokeStyle = "#ddd"; ctx.beginPath();
  ctx.moveTo(plane.width / 2, 0); ctx.lineTo(plane.width / 2, plane.height); ctx.moveTo(0, plane.height / 2); ctx.lineTo(plane.width, plane.height / 2); ctx.stroke();
  ctx.globalAlpha = 0.45;
  for (let i = 0; i < 1000; i++) {
    const [x, y] = toPlane([latents[2 * i], latents[2 * i + 1]]);
    ctx.fillStyle = classColours[state.test.labels[i]];
    ctx.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  ctx.globalAlpha = 1;
  if (point) {
    const [x, y] = toPlane(point);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(x, y, 6, 0, 2 * Math.PI); ctx.stroke();
  }
}
let decoding = false, queued = null;
async function decodeAt(z) {
  if (decoding) { queued = z; return; }
  decoding = true;
  drawPlane(z);
  const img = await trainer.call("decode", ["vae", new Float32Array(z), 1]);
  drawDigit($("decoded"), img);
  state.latentPoint = z;
  $("latentinfo").textContent = `z = (${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
  decoding = false;
  if (queued) { const q = queued; queued = null; decodeAt(q); }
}
let dragging = false;
function planePoint(e) {
  const r = plane.getBoundingClientRect();
  const x = (e.clientX - r.left) / r.width, y = (e.clientY - r.top) / r.height;
  return [-span + 2 * span * x, span - 2 * span * y];
}
plane.addEventListener("pointerdown", (e) => { if (!latents) return; dragging = true; plane.setPointerCapture(e.pointerId); decodeAt(planePoint(e)); });
plane.addEventListener("pointermove", (e) => { if (dragging) decodeAt(planePoint(e)); });
plane.addEventListener("pointerup", () => { dragging = false; });

// ---- 4. denoising -------------------------------------------------------------------------------
function rng(seed) { return () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; }; }
async function updateDenoise() {
  if (!state.test) return;
  const i = +$("dindex").value, level = +$("dnoise").value;
  const clean = testDigit(i);
  const r = rng(i + 1);
  const noisy = Float32Array.from(clean, (v) => (r() < level ? 0 : v)); // masking noise, as the DAE was trained
  drawDigit($("dclean"), clean);
  drawDigit($("dnoisy"), noisy);
  $("dnoisycap").textContent = `noisy: ${Math.round(level * 100)}% of pixels dropped`;
  if (!state.dae) return;
  const out = await trainer.call("reconstruct", ["dae", noisy, 1]);
  drawDigit($("ddenoised"), out);
  state.denoised = { index: i, level };
}
$("dindex").oninput = updateDenoise;
$("dnoise").oninput = updateDenoise;

// ---- the engine panel: the WebGPU backend checked on demand, in the trainer's worker (it holds the data)
$("gpucheck").onclick = async () => {
  $("gpucheck").disabled = true;
  $("gpuinfo").textContent = "Checking the WebGPU backend: every op against the wasm engine, gradients, a CNN trained on the GPU…";
  try {
    const r = state.gpu = await trainer.call("gpuCheck", [{ size: "tiny", steps: 60, engineSteps: 15, compare: 1000 }]);
    const a = r.adapter, ok = r.ops.filter((o) => o.ok).length, t = r.train;
    const failed = r.ops.filter((o) => !o.ok).map((o) => o.name + (o.error ? ` (${o.error.slice(0, 80)})` : ` (error ${o.maxError.toExponential(1)})`));
    $("gpuinfo").textContent = `WebGPU adapter ${a.vendor || "?"} / ${a.architecture || "?"}: ${ok} of ${r.ops.length} ops agree with the wasm engine` +
      (failed.length ? ` (not: ${failed.join("; ")})` : "") +
      `; gradients by finite differences ${r.gradient.ok ? "agree" : "DISAGREE"} (${r.gradient.maxError.toExponential(1)}). ` +
      (t ? `Tiny CNN on the GPU: ${t.stepMs.toFixed(0)} ms per step of ${t.batch} against ${t.engineStepMs.toFixed(0)} ms on the wasm engine ` +
        `(${(t.engineStepMs / t.stepMs).toFixed(2)}×), loss ${t.lossFirst.toFixed(2)} → ${t.lossLast.toFixed(2)} in ${t.steps} steps; ` +
        `${t.agree} of ${t.compared} test digits classified alike on both; one digit in ${t.inferMs.toFixed(1)} ms (engine ${t.engineInferMs.toFixed(1)} ms).`
        : `Training: ${r.trainError}`);
  } catch (e) {
    state.gpu = { error: e.message };
    $("gpuinfo").textContent = "No WebGPU here: " + e.message + " (everything runs on the wasm engine).";
  } finally {
    $("gpucheck").disabled = false;
  }
};
