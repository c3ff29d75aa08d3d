"use strict";
// Part of the page's logic: see app.js for the order the scripts load in and what they share.
// ---- 1. draw a digit ----------------------------------------------------------------------------
const pad = $("pad");
const padCtx = pad.getContext("2d", { willReadFrequently: true }); // read back on every stroke: keep it in CPU memory
function clearPad() {
  padCtx.fillStyle = "#000";
  padCtx.fillRect(0, 0, pad.width, pad.height);
  $("prediction").textContent = "–";
  renderBars(null);
}
clearPad();
let drawing = false;
let last = null;
function padPoint(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}
pad.addEventListener("pointerdown", (e) => { drawing = true; last = padPoint(e); pad.setPointerCapture(e.pointerId); stroke(last, last); });
pad.addEventListener("pointermove", (e) => { if (!drawing) return; const p = padPoint(e); stroke(last, p); last = p; });
pad.addEventListener("pointerup", () => { drawing = false; classifyPad(); });
pad.addEventListener("pointercancel", () => { drawing = false; });
function stroke(a, b) {
  padCtx.strokeStyle = "#fff";
  padCtx.lineWidth = 22;
  padCtx.lineCap = "round";
  padCtx.beginPath();
  padCtx.moveTo(a[0], a[1]);
  padCtx.lineTo(b[0], b[1]);
  padCtx.stroke();
}
$("clear").onclick = clearPad;
$("paste").onclick = () => {
  if (!state.test) return;
  pasteDigit(Math.floor(Math.random() * state.test.n));
};
function pasteDigit(i) {
  drawDigit(pad, testDigit(i));
  classifyPad();
  return state.test.labels[i];
}
window.mnistzipPage.pasteDigit = pasteDigit;

// toMNIST turns the pad into a 28×28 image prepared like MNIST: the ink's bounding box scaled to fit
// 20×20 (aspect kept, anti-aliased), then placed so its centre of mass sits at the centre.
function toMNIST() {
  const w = pad.width, h = pad.height;
  const src = padCtx.getImageData(0, 0, w, h).data;
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (src[(y * w + x) * 4] > 20) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1, scale = 20 / Math.max(bw, bh);
  const sw = Math.max(1, Math.round(bw * scale)), sh = Math.max(1, Math.round(bh * scale));
  const small = new OffscreenCanvas(sw, sh);
  const sctx = small.getContext("2d");
  sctx.imageSmoothingQuality = "high";
  sctx.drawImage(pad, x0, y0, bw, bh, 0, 0, sw, sh);
  const sd = sctx.getImageData(0, 0, sw, sh).data;
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
    const v = sd[(y * sw + x) * 4] / 255;
    mass += v; mx += v * x; my += v * y;
  }
  const ox = Math.round(14 - mx / mass - 0.5), oy = Math.round(14 - my / mass - 0.5);
  const out = new Float32Array(784);
  for (let y = 0; y < sh; y++) for (let x = 0; x < sw; x++) {
    const tx = x + ox, ty = y + oy;
    if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = sd[(y * sw + x) * 4] / 255;
  }
  return out;
}

let classifying = false, again = false;
async function classifyPad() {
  if (!state.padModel) return;
  if (classifying) { again = true; return; }
  classifying = true;
  const t0 = performance.now();
  const img = toMNIST();
  if (img) {
    drawDigit($("seen"), img);
    try {
      const p = await padWorker.call("classify", ["pad", img, 1]);
      const ms = performance.now() - t0;
      renderBars(p);
      const best = p.indexOf(Math.max(...p));
      $("prediction").textContent = `${best}  ·  ${(100 * p[best]).toFixed(1)}%`;
      state.lastPrediction = { digit: best, probs: Array.from(p), ms };
      $("drawinfo").textContent = `Calibrated probabilities (temperature ${state.padModel.temperature?.toFixed(3) ?? 1}); ${ms.toFixed(0)} ms from stroke to prediction.`;
    } catch (e) { fail(e.message); }
  }
  classifying = false;
  if (again) { again = false; classifyPad(); }
}
function renderBars(p) {
  const bars = $("bars");
  bars.replaceChildren();
  const best = p ? p.indexOf(Math.max(...p)) : -1;
  for (let d = 0; d < 10; d++) {
    const label = document.createElement("span"); label.textContent = d;
    const bar = document.createElement("div"); bar.className = "bar" + (d === best ? " top" : "");
    const fill = document.createElement("div"); fill.style.width = p ? `${100 * p[d]}%` : "0";
    bar.append(fill);
    const num = document.createElement("span"); num.className = "num"; num.textContent = p ? `${(100 * p[d]).toFixed(1)}%` : "";
    bars.append(label, bar, num);
  }
}
renderBars(null);

