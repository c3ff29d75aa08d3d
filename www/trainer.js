"use strict";
// Part of the page's logic: see app.js for the order the scripts load in and what they share.
// ---- 2. train in the browser --------------------------------------------------------------------
let trainRun = null;
function trainSpec(resume) {
  const [model, size] = $("tmodel").value.split(":");
  const classifier = $("tmodel").selectedOptions[0]?.dataset.family === "classifier";
  const batch = +$("tbatch").value;
  return { model, size, epochs: +$("tepochs").value, batch, lr: +$("tlr").value, schedule: "cosine", seed: 1, val: 5000,
    data: "train", test: classifier ? "test" : "", probeEvery: Math.max(20, Math.round(6400 / batch)), probeSize: 1000, resume,
    backend: $("tdevice").value };
}
// WebGPU, when the browser gives an adapter: offered first, and chosen. (Headless Chromium here has
// SwiftShader, WebGPU on the CPU; a visitor's GPU is what it is for.)
state.webgpu = call("webgpu").then((adapter) => {
  const o = document.createElement("option");
  o.value = "webgpu";
  o.textContent = `WebGPU (${[adapter.vendor, adapter.architecture].filter(Boolean).join(" / ") || "GPU"})`;
  $("tdevice").prepend(o);
  $("tdevice").value = "webgpu";
  return adapter;
}, (e) => ({ error: e.message }));
// The engine panel says what training can run on.
state.webgpu.then((a) => {
  const dt = document.createElement("dt"); dt.textContent = "training";
  const dd = document.createElement("dd");
  dd.textContent = a.error ? `the wasm engine (no WebGPU: ${a.error})` : `WebGPU (${[a.vendor, a.architecture].filter(Boolean).join(" / ")}) or the wasm engine`;
  $("versions").append(dt, dd);
});
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
        $("tstatus").textContent = `${spec.backend === "webgpu" ? "WebGPU" : "wasm engine"}: epoch ${p.epoch}/${p.epochs}, step ${p.step}/${p.steps}: loss ${p.loss.toFixed(4)}, ` +
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

