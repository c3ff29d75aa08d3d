// Page logic. All model work happens in the worker (worker.js); this file draws and talks to it.
"use strict";
const $ = (id) => document.getElementById(id);
const status = $("status");

// ---- worker calls -------------------------------------------------------------------------------
const worker = new Worker("worker.js");
let nextId = 1;
const pending = new Map();
let onReady;
const ready = new Promise((resolve) => { onReady = resolve; });
worker.onmessage = ({ data }) => {
  if (data.type === "ready") {
    onReady(data.version);
  } else if (data.type === "fatal") {
    fail(data.message);
  } else if (data.type === "progress") {
    pending.get(data.id)?.onProgress?.(data.progress);
  } else if (data.type === "result") {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (!p) return;
    if (data.error !== undefined) p.reject(new Error(data.error)); else p.resolve(data.result);
  }
};
worker.onerror = (e) => fail("worker failed: " + e.message);
function call(op, args = [], onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, op, args });
  });
}
function fail(message) {
  status.textContent = "Error: " + message;
  status.className = "error";
}
window.mnistzipPage = { call, state: {} }; // for tests and the curious
const state = window.mnistzipPage.state;

// ---- drawing helpers ----------------------------------------------------------------------------
function drawDigit(canvas, pixels, offset = 0) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[offset + i] * 255)));
    img.data.set([v, v, v, 255], i * 4);
  }
  const tmp = new OffscreenCanvas(28, 28);
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}
const classColours = ["#ff453a", "#ff9f0a", "#ffd60a", "#30d158", "#64d2ff", "#0a84ff", "#5e5ce6", "#bf5af2", "#ff375f", "#8e8e93"];

// ---- start: weights and data --------------------------------------------------------------------
async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
async function gzipSize(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

async function start() {
  const t0 = performance.now();
  const version = await ready;
  const dl = $("versions");
  for (const [k, v] of Object.entries(version)) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  state.version = version;
  // The models the page can train: the registry's (graphs/zoo), marked for the browser.
  const select = $("tmodel");
  for (const m of await call("models", [])) {
    if (!m.train) continue;
    const o = document.createElement("option");
    o.value = m.name; o.textContent = `${m.name}: ${m.summary}`;
    select.append(o);
  }
  if ([...select.options].some((o) => o.value === "dense")) select.value = "dense"; // the quickest to train
  state.trainable = [...select.options].map((o) => o.value);
  // The data subsets, through the codec.
  const rows = [];
  const decoded = {};
  for (const name of ["t10k-1000-images", "t10k-1000-labels", "train-1000-images", "train-1000-labels"]) {
    const packed = await fetchBytes(`data/${name}.mz`);
    const t = performance.now();
    const res = await call("decompress", [packed]);
    const ms = performance.now() - t;
    const raw = res.data.length + (res.dims.length === 3 ? 16 : 8);
    rows.push([name, raw, packed.length, await gzipSize(res.data), ms]);
    decoded[name] = res.data;
  }
  const toFloats = (u8) => Float32Array.from(u8, (v) => v / 255);
  state.test = { images: toFloats(decoded["t10k-1000-images"]), labels: decoded["t10k-1000-labels"] };
  state.train = { images: toFloats(decoded["train-1000-images"]), labels: decoded["train-1000-labels"] };
  const table = $("codectable");
  table.innerHTML = "<tr><th>file</th><th>raw bytes</th><th>.mz bytes</th><th>gzip bytes</th><th>saved vs gzip</th><th>decode ms</th></tr>";
  for (const [name, raw, mz, gz, ms] of rows) {
    const tr = document.createElement("tr");
    for (const v of [name, raw.toLocaleString(), mz.toLocaleString(), gz.toLocaleString(), `${(100 * (1 - mz / gz)).toFixed(1)}%`, ms.toFixed(0)]) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    table.append(tr);
  }
  state.codec = rows;
  // The shipped models.
  for (const name of ["cnn", "vae", "dae"]) {
    try {
      state[name] = await call("load", [name, await fetchBytes(`weights/${name}.safetensors`)]);
    } catch (e) {
      state[name + "Error"] = e.message;
    }
  }
  if (state.cnn) await call("classify", ["cnn", new Float32Array(784), 1]); // compile the graph now, not on the first stroke
  state.readyMs = performance.now() - t0;
  status.textContent = `Ready in ${(state.readyMs / 1000).toFixed(1)} s: ${state.cnn ? "CNN" : "no classifier"}, ${state.vae ? "VAE" : "no VAE"}, ${state.dae ? "DAE" : "no DAE"} loaded.`;
  if (!state.cnn) $("drawinfo").textContent = "No classifier weights were served: " + (state.cnnError || "");
  state.ready = true;
  setupLatent();
  updateDenoise();
  listSaved();
}
start().catch((e) => fail(e.message));

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
  const i = Math.floor(Math.random() * 1000);
  pasteDigit(i);
};
function pasteDigit(i) {
  drawDigit(pad, state.test.images, i * 784);
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
  if (!state.cnn) return;
  if (classifying) { again = true; return; }
  classifying = true;
  const t0 = performance.now();
  const img = toMNIST();
  if (img) {
    drawDigit($("seen"), img);
    try {
      const p = await call("classify", ["cnn", img, 1]);
      const ms = performance.now() - t0;
      renderBars(p);
      const best = p.indexOf(Math.max(...p));
      $("prediction").textContent = `${best}  ·  ${(100 * p[best]).toFixed(1)}%`;
      state.lastPrediction = { digit: best, probs: Array.from(p), ms };
      $("drawinfo").textContent = `Calibrated probabilities (temperature ${state.cnn.temperature?.toFixed(3) ?? 1}); ${ms.toFixed(0)} ms from stroke to prediction.`;
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

// ---- 2. train in the browser --------------------------------------------------------------------
let frames = 0;
(function tick() { frames++; state.frames = frames; requestAnimationFrame(tick); })();
const plot = $("lossplot");
let trainRun = null;
$("tstart").onclick = async () => {
  if (!state.train || trainRun) return;
  const spec = { model: $("tmodel").value, epochs: +$("tepochs").value, batch: +$("tbatch").value, lr: 1e-3, seed: Date.now() % 1000, val: 100 };
  const losses = [];
  const run = trainRun = { spec, losses, framesAtStart: frames, start: performance.now(), maxGap: 0 };
  state.training = run;
  let lastFrame = performance.now();
  const watch = () => { const now = performance.now(); run.maxGap = Math.max(run.maxGap, now - lastFrame); lastFrame = now; if (trainRun === run) requestAnimationFrame(watch); };
  requestAnimationFrame(watch);
  $("tstart").disabled = true; $("tstop").disabled = false; $("tsave").disabled = true; $("tdownload").disabled = true;
  $("tstatus").textContent = "Starting (the first step compiles the graphs)…";
  try {
    const info = await call("train", ["trained", spec, state.train.images, state.train.labels], (p) => {
      if (p.step) {
        losses.push(p.loss);
        run.last = p;
        drawLoss(losses);
        $("tstatus").textContent = `epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.steps}: loss ${p.loss.toFixed(4)}, ${p.samplesPerSec.toFixed(0)} samples/s, ${p.msPerStep.toFixed(0)} ms/step`;
      } else if (p.valLoss) {
        run.valLoss = p.valLoss;
      }
    });
    run.info = info;
    $("tstatus").textContent = (info.stopped ? "Stopped" : "Done") + `: ${losses.length} steps, last loss ${losses.at(-1)?.toFixed(4)}` +
      (run.valLoss ? `, validation loss ${run.valLoss.toFixed(4)}` : "") + `; frames kept coming (longest gap ${run.maxGap.toFixed(0)} ms).`;
    $("tsave").disabled = false; $("tdownload").disabled = false;
  } catch (e) {
    $("tstatus").textContent = "Training failed: " + e.message;
    run.error = e.message;
  } finally {
    run.done = true;
    trainRun = null;
    $("tstart").disabled = false; $("tstop").disabled = true;
  }
};
$("tstop").onclick = () => call("stop");
function drawLoss(losses) {
  const ctx = plot.getContext("2d"), w = plot.width, h = plot.height;
  ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, w, h);
  if (losses.length < 2) return;
  const lo = Math.min(...losses), hi = Math.max(...losses);
  ctx.strokeStyle = "#0a84ff"; ctx.lineWidth = 2; ctx.beginPath();
  losses.forEach((l, i) => {
    const x = 8 + (w - 16) * i / (losses.length - 1), y = 8 + (h - 16) * (hi === lo ? 0.5 : (hi - l) / (hi - lo));
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "#555"; ctx.font = "12px system-ui"; ctx.textAlign = "right";
  ctx.fillText(`loss ${hi.toFixed(3)} → ${losses.at(-1).toFixed(3)}`, w - 10, 16);
}

// Saved weights live in IndexedDB (object store "weights", key: a name).
function db() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("mnistzip", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("weights");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
async function dbDo(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction("weights", mode);
    const req = fn(tx.objectStore("weights"));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
  });
}
$("tsave").onclick = async () => {
  const bytes = await call("weights", ["trained"]);
  await dbDo("readwrite", (s) => s.put({ bytes, model: trainRun?.spec.model ?? state.training?.spec.model, saved: new Date().toISOString() }, "trained"));
  listSaved();
};
$("tload").onclick = async () => {
  const rec = await dbDo("readonly", (s) => s.get("trained"));
  if (!rec) { $("tsaved").textContent = "Nothing saved yet."; return; }
  const info = await call("load", ["trained", rec.bytes]);
  state.reloaded = info;
  $("tsaved").textContent = `Loaded the saved ${info.model} (${info.params.toLocaleString()} parameters, id ${info.id}).`;
  $("tdownload").disabled = false;
};
$("tdownload").onclick = async () => {
  const bytes = await call("weights", ["trained"]);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([bytes]));
  a.download = "mnistzip-trained.safetensors";
  a.click();
};
async function listSaved() {
  try {
    const rec = await dbDo("readonly", (s) => s.get("trained"));
    state.saved = rec ? { model: rec.model, saved: rec.saved, bytes: rec.bytes.length } : null;
    $("tsaved").textContent = rec ? `Saved: a ${rec.model} from ${rec.saved}.` : "";
  } catch (e) { $("tsaved").textContent = "IndexedDB unavailable: " + e.message; }
}

// ---- 3. VAE latent explorer ---------------------------------------------------------------------
const plane = $("plane");
const span = 3.5; // the plane shows [−span, span]²
const toPlane = (z) => [(z[0] + span) / (2 * span) * plane.width, (span - z[1]) / (2 * span) * plane.height];
let latents = null;
async function setupLatent() {
  if (!state.vae) { $("latentinfo").textContent = "No VAE weights were served."; return; }
  // In calls of 100 digits, so a drawing's classification can slip in between them.
  const parts = [];
  for (let i = 0; i < 1000; i += 100) parts.push(await call("encode", ["vae", state.test.images.subarray(i * 784, (i + 100) * 784), 100]));
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
  const img = await call("decode", ["vae", new Float32Array(z), 1]);
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
  const clean = state.test.images.subarray(i * 784, (i + 1) * 784);
  const r = rng(i + 1);
  const noisy = Float32Array.from(clean, (v) => (r() < level ? 0 : v)); // masking noise, as the DAE was trained
  drawDigit($("dclean"), clean);
  drawDigit($("dnoisy"), noisy);
  $("dnoisycap").textContent = `noisy: ${Math.round(level * 100)}% of pixels dropped`;
  if (!state.dae) return;
  const out = await call("reconstruct", ["dae", noisy, 1]);
  drawDigit($("ddenoised"), out);
  state.denoised = { index: i, level };
}
$("dindex").oninput = updateDenoise;
$("dnoise").oninput = updateDenoise;
