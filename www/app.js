// Page logic, in classic scripts that share one global scope, loaded in this order: app.js (the
// workers, helpers, start-up and data), pad.js (draw a digit), trainer.js, codec.js (the codec panel),
// explore.js (VAE latent explorer, denoising). All model work happens in Web Workers (worker.js).
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
// Every script of the page has run by DOMContentLoaded: start then, when all their functions exist.
document.addEventListener("DOMContentLoaded", () => start().catch((e) => fail(e.message)));

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

