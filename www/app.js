// Page logic. All model work happens in Web Workers (worker.js); this file draws and talks to them.
"use strict";
const $ = (id) => document.getElementById(id);
const status = $("status");

// ---- workers ------------------------------------------------------------------------------------
// Three instances of the same worker: the trainer holds the data and trains (and runs the VAE and
// DAE panels), the pad worker only classifies drawings (a prediction never waits behind a training
// step), the codec worker compresses and restores the user's files (started on first use).
function spawn(label) {
  const worker = new Worker("worker.js");
  let nextId = 1, onReady;
  const pending = new Map();
  const ready = new Promise((resolve) => { onReady = resolve; });
  worker.onmessage = ({ data }) => {
    if (data.type === "ready") {
      onReady(data.version);
    } else if (data.type === "fatal") {
      fail(`${label} worker: ${data.message}`);
    } else if (data.type === "progress") {
      pending.get(data.id)?.onProgress?.(data.progress);
    } else if (data.type === "result") {
      const p = pending.get(data.id);
      pending.delete(data.id);
      if (!p) return;
      if (data.error !== undefined) p.reject(new Error(data.error)); else p.resolve(data.result);
    }
  };
  worker.onerror = (e) => fail(`${label} worker failed: ${e.message}`);
  const call = (op, args = [], onProgress) => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, onProgress });
      worker.postMessage({ id, op, args });
    });
  };
  return { call, ready };
}
function fail(message) {
  status.textContent = "Error: " + message;
  status.className = "error";
}
const trainer = spawn("trainer");
const padWorker = spawn("drawing pad");
let codecWorker = null;
const call = trainer.call;
window.mnistzipPage = { call, padCall: padWorker.call, state: {} }; // for tests and the curious
const state = window.mnistzipPage.state;

// ---- frames: the page must keep drawing while the workers decode and train ------------------------
// gaps[label] is the longest time between two animation frames while that activity ran.
let frames = 0, lastFrame = performance.now();
const activities = new Set();
state.gaps = {};
(function tick() {
  const now = performance.now(), gap = now - lastFrame;
  lastFrame = now;
  frames++;
  state.frames = frames;
  for (const a of activities) state.gaps[a] = Math.max(state.gaps[a] ?? 0, gap);
  requestAnimationFrame(tick);
})();
function during(label, promise) {
  activities.add(label);
  state.gaps[label] = state.gaps[label] ?? 0;
  return promise.finally(() => activities.delete(label));
}

// ---- drawing helpers ----------------------------------------------------------------------------
function drawDigit(canvas, pixels, offset = 0, scale = 1) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[offset + i] * 255 * scale)));
    img.data.set([v, v, v, 255], i * 4);
  }
  const tmp = new OffscreenCanvas(28, 28);
  tmp.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}
const classColours = ["#ff453a", "#ff9f0a", "#ffd60a", "#30d158", "#64d2ff", "#0a84ff", "#5e5ce6", "#bf5af2", "#ff375f", "#8e8e93"];
// The test digits arrive once as bytes (state.test.images, n × 784); models take floats in [0, 1].
const testDigits = (start, n) => Float32Array.from(state.test.images.subarray(start * 784, (start + n) * 784), (v) => v / 255);
const testDigit = (i) => testDigits(i, 1);
const fmtBytes = (n) => n.toLocaleString("en-US");
function setBar(id, fraction) { $(id).style.width = `${(100 * Math.max(0, Math.min(1, fraction))).toFixed(1)}%`; }

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
async function sha256(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---- start: versions, models, data, weights -------------------------------------------------------
async function start() {
  const version = await trainer.ready;
  const dl = $("versions");
  for (const [k, v] of Object.entries(version)) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  state.version = version;
  fillModelMenu(await call("models", []));
  // The drawing pad's model first: drawing works while the data loads.
  const padReady = (async () => {
    try {
      state.shippedCNN = await fetchBytes("weights/cnn.safetensors");
      await usePadModel(state.shippedCNN, "the shipped CNN");
    } catch (e) {
      state.cnnError = e.message;
      $("drawinfo").textContent = "No classifier weights were served: " + e.message;
    }
  })();
  await loadData();
  for (const name of ["vae", "dae"]) {
    try {
      state[name] = await call("load", [name, await fetchBytes(`weights/${name}.safetensors`)]);
    } catch (e) {
      state[name + "Error"] = e.message;
    }
  }
  await padReady;
  state.readyMs = performance.now(); // since navigation started
  status.textContent = `Ready in ${(state.readyMs / 1000).toFixed(1)} s: ${state.data.train.n.toLocaleString()} training and ` +
    `${state.data.test.n.toLocaleString()} test digits ${state.data.files.every((f) => f.source === "cache") ? "from this browser's cache" : "decoded from .mz"}; ` +
    `${state.padModel ? "CNN" : "no classifier"}, ${state.vae ? "VAE" : "no VAE"}, ${state.dae ? "DAE" : "no DAE"} loaded.`;
  state.ready = true;
  $("tstart").disabled = false;
  setupLatent();
  updateDenoise();
  listSaved();
}
start().catch((e) => fail(e.message));

// The models the page can train: the registry's (graphs/zoo) marked for the browser, one entry per
// size preset; the tiny CNN first, the one sized for training on all of MNIST in a tab.
function fillModelMenu(models) {
  const select = $("tmodel");
  for (const m of models) {
    if (!m.train) continue;
    for (const size of m.sizes?.length ? m.sizes : [""]) {
      const o = document.createElement("option");
      o.value = size ? `${m.name}:${size}` : m.name;
      o.textContent = size ? `${m.name} (${size})` : `${m.name}: ${m.summary}`;
      o.title = m.summary;
      o.dataset.family = m.family;
      select.append(o);
    }
  }
  if ([...select.options].some((o) => o.value === "cnn:tiny")) select.value = "cnn:tiny";
  state.trainable = [...select.options].map((o) => o.value);
}

async function loadData() {
  $("datastatus").textContent = "Loading MNIST…";
  const t0 = performance.now();
  const res = await during("data", call("loadData", [], (p) => {
    setBar("dataprogress", p.done / p.total);
    const what = { download: "downloading", decode: "decoding", cache: "reading from the cache" }[p.phase];
    $("datastatus").textContent = `${what} ${p.file}… ${(100 * p.done / p.total).toFixed(0)}%`;
  }));
  setBar("dataprogress", 1);
  state.test = { images: res.testImages, labels: res.testLabels, n: res.test.n };
  delete res.testImages; delete res.testLabels;
  state.data = res;
  state.dataReadyMs = performance.now(); // since navigation started: the time to "training can start"
  const transferred = res.files.reduce((s, f) => s + f.transferred, 0);
  const gz = res.files.reduce((s, f) => s + f.gzipBytes, 0), mz = res.files.reduce((s, f) => s + f.mzBytes, 0);
  $("datastatus").textContent = transferred
    ? `Downloaded ${fmtBytes(transferred)} bytes of .mz where gzip -9 would have needed ${fmtBytes(gz)} (${(100 * (1 - mz / gz)).toFixed(1)}% less), decoded in ${((performance.now() - t0) / 1000).toFixed(1)} s and kept in this browser.`
    : `From this browser's cache: nothing downloaded or decoded (${((performance.now() - t0) / 1000).toFixed(1)} s).`;
  const table = $("codectable");
  table.innerHTML = "<tr><th>file</th><th>raw bytes</th><th>.mz bytes</th><th>gzip -9 bytes</th><th>saved vs gzip</th><th>transferred</th><th>decode ms</th></tr>";
  for (const f of res.files) {
    const tr = document.createElement("tr");
    for (const v of [f.name, fmtBytes(f.rawBytes), fmtBytes(f.mzBytes), fmtBytes(f.gzipBytes), `${(100 * (1 - f.mzBytes / f.gzipBytes)).toFixed(1)}%`,
      f.source === "cache" ? "0 (cached)" : fmtBytes(f.transferred), f.decodeMs !== undefined ? f.decodeMs.toFixed(0) : "–"]) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    table.append(tr);
  }
}

// usePadModel loads a classifier's weights into the drawing pad's worker.
async function usePadModel(bytes, label) {
  state.padModel = await padWorker.call("load", ["pad", bytes]);
  state.padModel.label = label;
  await padWorker.call("classify", ["pad", new Float32Array(784), 1]); // build the graph now, not on the first stroke
  $("padmodel").textContent = `Model: ${label} (${state.padModel.params.toLocaleString()} parameters, temperature ${(state.padModel.temperature ?? 1).toFixed(3)}).`;
  $("padshipped").disabled = label === "the shipped CNN" || !state.shippedCNN;
}
$("padshipped").onclick = () => usePadModel(state.shippedCNN, "the shipped CNN");

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

// ---- 2. train in the browser --------------------------------------------------------------------
let trainRun = null;
function trainSpec(resume) {
  const [model, size] = $("tmodel").value.split(":");
  const classifier = $("tmodel").selectedOptions[0]?.dataset.family === "classifier";
  const batch = +$("tbatch").value;
  return { model, size, epochs: +$("tepochs").value, batch, lr: +$("tlr").value, schedule: "cosine", seed: 1, val: 5000,
    data: "train", test: classifier ? "test" : "", probeEvery: Math.max(20, Math.round(6400 / batch)), probeSize: 1000, resume };
}
$("tstart").onclick = () => train(false);
$("tresume").onclick = () => train(true);
window.mnistzipPage.trainWith = (overrides) => train(false, overrides); // tests: shorter runs
$("tstop").onclick = () => call("stop");
async function train(resume, overrides = {}) {
  if (!state.data || trainRun) return;
  const spec = resume && state.training?.info?.stopped ? { ...state.training.spec, resume: true } : { ...trainSpec(false), ...overrides };
  const prev = resume ? state.training : null;
  const run = trainRun = { spec, losses: prev?.losses ?? [], probes: prev?.probes ?? [], epochEnds: prev?.epochEnds ?? [],
    framesAtStart: frames, start: performance.now(), done: false };
  state.training = run;
  if (!resume) {
    for (const id of ["confusion", "gallery"]) $(id).replaceChildren();
    for (const id of ["lossplot", "accplot"]) plotLine($(id), [], {});
    $("tcalib").textContent = "";
    $("confusioncap").textContent = "confusion matrix (rows: true digit, columns: predicted), after the first epoch";
    $("gallerycap").textContent = "misclassified test digits (true → predicted), after the first epoch";
  }
  const steps = Math.floor((spec.limit || state.data.train.n - spec.val) / spec.batch);
  const total = spec.maxSteps ? Math.min(spec.maxSteps, steps * spec.epochs) : steps * spec.epochs;
  for (const id of ["tstart", "tresume", "tsave", "tdownload"]) $(id).disabled = true;
  $("tstop").disabled = false;
  $("tstatus").textContent = resume ? "Resuming…" : "Starting (the first step builds the graphs)…";
  try {
    const info = await during("training", call("train", ["trained", spec, null, null], (p) => {
      if (p.test) {
        p.test.wall = (performance.now() - run.start) / 1000; // seconds since this run (or resume) started
        run.probes.push(p.test);
        if (p.test.epochEnd) { run.epochEnds.push(p.test); showEpochEnd(p.test); }
        drawAccuracy(run.probes);
      } else if (p.step) {
        run.losses.push(p.loss);
        run.last = p;
        run.seconds = p.seconds;
        if (run.losses.length % 5 === 0 || p.done === total) drawLoss(run.losses);
        setBar("tprogress", p.done / total);
        const eta = (total - p.done) * p.seconds / Math.max(1, p.done);
        const acc = run.probes.at(-1);
        $("tstatus").textContent = `epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.steps}: loss ${p.loss.toFixed(4)}, ` +
          `${p.samplesPerSec.toFixed(0)} digits/s, ${fmtTime(p.seconds)} trained, about ${fmtTime(eta)} to go` +
          (acc ? `; test accuracy ${(100 * acc.accuracy).toFixed(2)}% (${acc.n.toLocaleString()} digits, step ${acc.done})` : "");
      } else if (p.valLoss) {
        run.valLoss = p.valLoss;
      }
    }));
    run.info = info;
    const last = run.epochEnds.at(-1);
    $("tstatus").textContent = (info.stopped ? "Stopped" : "Done") + ` after ${run.losses.length} steps in ${fmtTime(run.seconds ?? 0)} of training` +
      (last ? `; test accuracy ${(100 * last.accuracy).toFixed(2)}% on all ${last.n.toLocaleString()} test digits after epoch ${last.epoch}` : "") +
      (run.valLoss ? `, validation loss ${run.valLoss.toFixed(4)}` : "") + `; longest frame gap ${state.gaps.training.toFixed(0)} ms.`;
    $("tsave").disabled = false; $("tdownload").disabled = false;
    $("tresume").disabled = !info.stopped;
    if (info.calibration) await adoptTrained(info);
  } catch (e) {
    $("tstatus").textContent = "Training failed: " + e.message;
    run.error = e.message;
  } finally {
    run.done = true;
    trainRun = null;
    $("tstart").disabled = false; $("tstop").disabled = true;
  }
}
function fmtTime(s) { return s < 90 ? `${s.toFixed(0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`; }

// A trained classifier comes temperature-scaled (T fitted on the validation split) and goes to the
// drawing pad at once.
async function adoptTrained(info) {
  const c = info.calibration, pct = (x) => (100 * x).toFixed(2);
  $("tcalib").textContent = `Temperature scaling: T = ${c.temperature.toFixed(3)} fitted on the ${c.valSize.toLocaleString()} validation digits` +
    (c.before ? `; on the test set NLL ${c.before.nll.toFixed(4)} → ${c.after.nll.toFixed(4)}, ECE (15 bins) ${pct(c.before.ece)}% → ${pct(c.after.ece)}%` : "") +
    ". The drawing pad now uses this model.";
  await usePadModel(await call("weights", ["trained"]), `your ${info.model} trained here (${pct(c.after?.accuracy ?? 0)}% on the test set)`);
  state.adopted = { model: info.model, temperature: c.temperature };
}

function showEpochEnd(r) {
  const table = $("confusion");
  table.replaceChildren();
  const head = document.createElement("tr");
  head.append(document.createElement("th"));
  for (let d = 0; d < 10; d++) { const th = document.createElement("th"); th.textContent = d; head.append(th); }
  table.append(head);
  r.confusion.forEach((row, y) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.textContent = y; tr.append(th);
    const n = row.reduce((a, b) => a + b, 0);
    row.forEach((c, p) => {
      const td = document.createElement("td");
      td.textContent = c || "";
      const f = c / Math.max(1, n);
      td.style.background = p === y ? `rgba(48, 209, 88, ${0.15 + 0.6 * f})` : c ? `rgba(255, 69, 58, ${Math.min(0.8, 0.15 + 20 * f)})` : "";
      tr.append(td);
    });
    table.append(tr);
  });
  $("confusioncap").textContent = `confusion matrix after epoch ${r.epoch}: ${(100 * r.accuracy).toFixed(2)}% of ${r.n.toLocaleString()} test digits (rows: true digit, columns: predicted)`;
  const gallery = $("gallery");
  gallery.replaceChildren();
  for (const e of r.errors.slice(0, 60)) {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas"); c.width = 28; c.height = 28;
    drawDigit(c, state.test.images, e.index * 784, 1 / 255);
    const cap = document.createElement("figcaption"); cap.textContent = `${e.label}→${e.predicted}`;
    fig.title = `test digit ${e.index}: a ${e.label}, predicted ${e.predicted} (${(100 * e.confidence).toFixed(0)}%)`;
    fig.append(c, cap);
    gallery.append(fig);
  }
  const wrong = r.n - Math.round(r.accuracy * r.n);
  $("gallerycap").textContent = `${Math.min(60, r.errors.length)} of the ${wrong} misclassified test digits after epoch ${r.epoch} (true → predicted)`;
}

function plotLine(canvas, values, { lo, hi, label, colour }) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.fillStyle = "#fafafa"; ctx.fillRect(0, 0, w, h);
  if (values.length < 2) return;
  ctx.strokeStyle = colour; ctx.lineWidth = 2; ctx.beginPath();
  values.forEach(([x, v], i) => {
    const px = 8 + (w - 16) * x, py = 8 + (h - 24) * (hi === lo ? 0.5 : (hi - Math.max(lo, Math.min(hi, v))) / (hi - lo));
    if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
  });
  ctx.stroke();
  ctx.fillStyle = "#555"; ctx.font = "12px system-ui"; ctx.textAlign = "right";
  ctx.fillText(label, w - 10, h - 6);
}
function drawLoss(losses) {
  // A moving average over 20 steps: single batches of 32 are noisy.
  const smooth = [], k = 20;
  let sum = 0;
  losses.forEach((l, i) => { sum += l; if (i >= k) sum -= losses[i - k]; smooth.push([i / Math.max(1, losses.length - 1), sum / Math.min(i + 1, k)]); });
  const vals = smooth.map((p) => p[1]);
  plotLine($("lossplot"), smooth, { lo: Math.min(...vals), hi: Math.max(...vals), colour: "#0a84ff",
    label: `training loss (20-step mean) ${vals[0].toFixed(3)} → ${vals.at(-1).toFixed(3)}` });
}
function drawAccuracy(probes) {
  const total = Math.max(...probes.map((p) => p.done));
  const last = probes.at(-1);
  const lo = Math.min(0.9, Math.floor(20 * Math.min(...probes.map((p) => p.accuracy))) / 20);
  plotLine($("accplot"), probes.map((p) => [p.done / total, p.accuracy]), { lo, hi: 1, colour: "#30d158",
    label: `test accuracy ${(100 * last.accuracy).toFixed(2)}% (${last.n.toLocaleString()} digits; axis ${(100 * lo).toFixed(0)}–100%)` });
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
  await dbDo("readwrite", (s) => s.put({ bytes, model: state.training?.spec.model, saved: new Date().toISOString() }, "trained"));
  listSaved();
};
$("tload").onclick = async () => {
  const rec = await dbDo("readonly", (s) => s.get("trained"));
  if (!rec) { $("tsaved").textContent = "Nothing saved yet."; return; }
  const info = await call("load", ["trained", rec.bytes]);
  state.reloaded = info;
  $("tsaved").textContent = `Loaded the saved ${info.model} (${info.params.toLocaleString()} parameters, id ${info.id}).`;
  $("tdownload").disabled = false;
  if (info.classifier) await usePadModel(rec.bytes, `your saved ${info.model}`);
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

// ---- the codec panel: the user's own files, compressed or restored in a worker of their own ------
const mzMagic = [0x89, 0x4d, 0x5a, 0x0a];
const isMZ = (b) => b.length >= 4 && mzMagic.every((v, i) => b[i] === v);
// The panel holds a file and its result in memory: MNIST's largest file is 47 MB raw, so 256 MiB either
// way is room for any MNIST-like file and keeps a hostile one from taking the tab down.
const codecLimit = 256 << 20;
let codecBusy = false;
async function codecFile(file) {
  if (codecBusy) return;
  codecBusy = true;
  codecWorker ??= spawn("codec");
  const link = $("codecdownload");
  if (link.href) URL.revokeObjectURL(link.href);
  link.hidden = true; link.removeAttribute("href");
  $("codecverify").hidden = true; $("codecverified").textContent = "";
  $("codecstatus").className = "note";
  setBar("codecprogress", 0);
  const result = state.codecResult = { inName: file.name, inBytes: file.size };
  try {
    if (file.size > codecLimit) throw new Error(`${fmtBytes(file.size)} bytes is more than this page holds in memory (${codecLimit >> 20} MiB): use the mnistzip command`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    result.inSha256 = await sha256(bytes);
    const restore = isMZ(bytes), level = $("codeclevel").value;
    $("codecstatus").textContent = restore ? `Restoring ${file.name}…` : `Compressing ${file.name} (level ${level})…`;
    const onProgress = (p) => setBar("codecprogress", p.done / p.total);
    const t0 = performance.now();
    const res = await during("codec", restore
      ? codecWorker.call("decompress", [bytes, { whole: true, maxBytes: codecLimit }], onProgress)
      : codecWorker.call("compress", [bytes, { level }], onProgress));
    const out = restore ? res.data : res.mz;
    const ms = performance.now() - t0;
    const base = file.name.replace(/\.gz$/i, "");
    Object.assign(result, { op: restore ? "decompress" : "compress", outName: restore ? base.replace(/\.mz$/i, "") || "restored.idx" : base + ".mz",
      outBytes: out.length, outSha256: await sha256(out), ms, dims: res.dims, type: res.type, level: res.level, gzipped: res.gzipped, out });
    const shape = `${res.dims.join(" × ")} ${res.type}`;
    $("codecstatus").textContent = restore
      ? `${file.name} (${fmtBytes(bytes.length)} bytes) → ${result.outName}: ${fmtBytes(out.length)} bytes of IDX (${shape}${res.lossy ? ", lossy" : ""}) in ${(ms / 1000).toFixed(1)} s; SHA-256 ${result.outSha256.slice(0, 16)}…`
      : `${file.name} (${fmtBytes(bytes.length)} bytes${res.gzipped ? ", gzip" : ""}; ${shape}) → ${result.outName}: ${fmtBytes(out.length)} bytes, ` +
        `${(100 * out.length / res.rawBytes).toFixed(2)}% of the raw ${fmtBytes(res.rawBytes)} (${(8 * out.length / res.rawBytes).toFixed(3)} bits per byte) in ${(ms / 1000).toFixed(1)} s, level ${res.level}.`;
    link.href = URL.createObjectURL(new Blob([out]));
    link.download = result.outName;
    link.textContent = `Download ${result.outName} (${fmtBytes(out.length)} bytes)`;
    link.hidden = false;
    $("codecverify").hidden = restore;
    setBar("codecprogress", 1);
  } catch (e) {
    result.error = e.message;
    $("codecstatus").textContent = `${file.name}: ${e.message}`;
    $("codecstatus").className = "error";
  } finally {
    result.done = true;
    codecBusy = false;
  }
}
// Restores the .mz just made and compares it with the input, byte for byte (by SHA-256; a .gz input
// is compared after gunzip, which is what the .mz restores).
$("codecverify").onclick = async () => {
  const r = state.codecResult;
  if (!r?.out) return;
  try {
    const res = await codecWorker.call("decompress", [r.out, { whole: true }]);
    let want = r.inSha256;
    if (r.gzipped) {
      const raw = new Uint8Array(await new Response(new Blob([await fileBytes()]).stream().pipeThrough(new DecompressionStream("gzip"))).arrayBuffer());
      want = await sha256(raw);
    }
    const got = await sha256(res.data);
    r.roundTrip = { sha256: got, want, equal: got === want };
    $("codecverified").textContent = got === want ? `Restored byte for byte (SHA-256 ${got.slice(0, 16)}…).` : `Restored file differs: SHA-256 ${got.slice(0, 16)}… ≠ ${want.slice(0, 16)}…`;
  } catch (e) {
    $("codecverified").textContent = "Restoring failed: " + e.message;
  }
};
let lastFile = null;
const fileBytes = async () => new Uint8Array(await lastFile.arrayBuffer());
$("codecfile").onchange = () => { const f = $("codecfile").files[0]; if (f) { lastFile = f; codecFile(f); } };
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer.files[0];
  if (f) { lastFile = f; codecFile(f); }
});

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
