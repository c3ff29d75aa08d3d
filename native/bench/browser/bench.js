// Side-by-side timings in one page: mnistzip's wasm (GoMLX graphs on the pure-Go backend, in a Web
// Worker exactly as the demo page runs it) against TensorFlow.js's cpu and wasm backends on the
// same architectures, losses, optimizer (Adam) and batch sizes. window.runBench() resolves to
// {env, rows}: one row per (workload, runtime) with ms per training step or per classification.
"use strict";
const status = document.getElementById("status");
const log = (s) => { status.textContent += "\n" + s; };

// ---- mnistzip's worker (the demo page's worker.js and wasm) -------------------------------------
const worker = new Worker("/worker.js");
let nextId = 1;
const pending = new Map();
let workerReady;
const ready = new Promise((resolve, reject) => { workerReady = { resolve, reject }; });
worker.onmessage = ({ data }) => {
  if (data.type === "ready") workerReady.resolve(data.version);
  else if (data.type === "fatal") workerReady.reject(new Error(data.message));
  else if (data.type === "progress") pending.get(data.id)?.onProgress?.(data.progress);
  else if (data.type === "result") {
    const p = pending.get(data.id);
    pending.delete(data.id);
    if (data.error !== undefined) p.reject(new Error(data.error)); else p.resolve(data.result);
  }
};
function call(op, args = [], onProgress) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, op, args });
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// Random inputs: step times do not depend on pixel values; the same sizes for every runtime.
function data(n) {
  const images = new Float32Array(n * 784);
  for (let i = 0; i < images.length; i++) images[i] = Math.random();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Math.floor(Math.random() * 10);
  return { images, labels };
}

// oursTrain trains one epoch of `steps` steps and takes the median gap between consecutive step
// reports (the first step, which compiles the graph, is excluded).
async function oursTrain(model, batch, steps, { size = "", backend = "" } = {}) {
  const { images, labels } = data(batch * steps);
  const stamps = [];
  await call("train", [`bench-${model}${size}`, { model, size, backend, epochs: 1, batch, lr: 1e-3, seed: 1, val: 0 }, images, labels],
    (p) => { if (p.step > 0) stamps.push(performance.now()); });
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
  return { ms: median(gaps), steps: gaps.length };
}

// oursClassify: one digit through the page's path (postMessage to the worker, calibrated
// probabilities back), median of 30 after a warm-up.
async function oursClassify(name) {
  const img = data(1).images;
  await call("classify", [name, img, 1]);
  const ts = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await call("classify", [name, img, 1]);
    ts.push(performance.now() - t0);
  }
  return { ms: median(ts), steps: ts.length };
}

// ---- TensorFlow.js: the same models ---------------------------------------------------------------
function tfDense() { // 784-512-32-512-784, sigmoid cross-entropy on logits (mnistzip's dense AE)
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 512, activation: "relu" }),
    tf.layers.dense({ units: 32 }),
    tf.layers.dense({ units: 512, activation: "relu" }),
    tf.layers.dense({ units: 784 }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (y, logits) => tf.losses.sigmoidCrossEntropy(y, logits) });
  return model;
}
// mnistzip's CNN: 5×5 conv 32 valid → relu → maxpool 2 → 5×5 conv 64 → relu → maxpool 2 → 128 → 10;
// tiny (the page's): 8, 16, 64.
function tfCNN(tiny = false) {
  const [f1, f2, dense] = tiny ? [8, 16, 64] : [32, 64, 128];
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: f1, kernelSize: 5, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: f2, kernelSize: 5, activation: "relu" }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: dense, activation: "relu" }),
    tf.layers.dense({ units: 10 }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) });
  return model;
}

// tfTrain: one warm-up step, then steps until minMs has passed (at least one).
async function tfTrain(kind, batch, minMs) {
  const model = kind === "dense" ? tfDense() : tfCNN(kind === "tiny");
  const { images, labels } = data(batch);
  const x = kind === "dense" ? tf.tensor2d(images, [batch, 784]) : tf.tensor4d(images, [batch, 28, 28, 1]);
  const y = kind === "dense" ? x : tf.oneHot(tf.tensor1d(labels, "int32"), 10);
  try {
    await model.trainOnBatch(x, y);
    const ts = [];
    const start = performance.now();
    while (ts.length < 1 || performance.now() - start < minMs) {
      const t0 = performance.now();
      await model.trainOnBatch(x, y);
      ts.push(performance.now() - t0);
    }
    return { ms: median(ts), steps: ts.length };
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

async function tfClassify(tiny = false) {
  const model = tfCNN(tiny);
  const x = tf.tensor4d(data(1).images, [1, 28, 28, 1]);
  const run = () => tf.tidy(() => tf.softmax(model.predict(x))).dataSync();
  try {
    run();
    const ts = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      run();
      ts.push(performance.now() - t0);
    }
    return { ms: median(ts), steps: ts.length };
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function attempt(rows, workload, runtime, f) {
  log(`${workload} on ${runtime}…`);
  try {
    rows.push({ workload, runtime, ...(await f()) });
  } catch (e) {
    rows.push({ workload, runtime, error: String(e.message || e).split("\n")[0] });
  }
  log(`  ${JSON.stringify(rows.at(-1))}`);
}

const TINY = "tiny CNN (the page's), batch 32", TINY1 = "classify 1 digit (tiny CNN)";

window.runBench = async function ({ minMs = 5000, denseSteps = 12, cnnSteps = 8, tinySteps = 40 } = {}) {
  const rows = [];
  const version = await ready;
  // The page's CNN on the wasm engine and on mnistzip's WebGPU backend (when there is an adapter):
  // training steps through the page's train call; one-digit inference timed inside the worker by
  // gpuCheck (the GoMLX call and its read-back; the page adds a postMessage round trip).
  await attempt(rows, TINY, "mnistzip wasm", () => oursTrain("cnn", 32, tinySteps, { size: "tiny" }));
  let gpu = null;
  await attempt(rows, TINY, "mnistzip WebGPU", async () => {
    const adapter = await call("webgpu");
    gpu = { adapter };
    return oursTrain("cnn", 32, tinySteps, { size: "tiny", backend: "webgpu" });
  });
  if (gpu) {
    await call("loadData", []);
    const r = await call("gpuCheck", [{ size: "tiny", steps: 30, engineSteps: 10, compare: 100 }]);
    rows.push({ workload: TINY1, runtime: "mnistzip wasm", ms: r.train.engineInferMs, steps: 20, note: "in the worker" });
    rows.push({ workload: TINY1, runtime: "mnistzip WebGPU", ms: r.train.inferMs, steps: 20, note: "in the worker" });
    gpu.ops = `${r.ops.filter((o) => o.ok).length}/${r.ops.length}`;
  }
  await attempt(rows, "dense AE, batch 128", "mnistzip wasm", () => oursTrain("dense", 128, denseSteps));
  await attempt(rows, "CNN, batch 64", "mnistzip wasm", () => oursTrain("cnn", 64, cnnSteps));
  await attempt(rows, "classify 1 digit (CNN)", "mnistzip wasm", () => oursClassify("bench-cnn"));
  tf.wasm.setWasmPaths("/tfjs/tfjs-backend-wasm/dist/");
  const env = { userAgent: navigator.userAgent, hardwareConcurrency: navigator.hardwareConcurrency, crossOriginIsolated, mnistzip: version, tfjs: tf.version.tfjs, webgpu: gpu };
  for (const backend of ["webgpu", "wasm", "cpu"]) {
    const rt = `TensorFlow.js ${backend}`;
    try {
      if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js has no ${backend} backend here`);
      await tf.ready();
    } catch (e) {
      rows.push({ workload: TINY, runtime: rt, error: String(e.message || e).split("\n")[0] });
      continue;
    }
    await attempt(rows, TINY, rt, () => tfTrain("tiny", 32, minMs));
    await attempt(rows, TINY1, rt, () => tfClassify(true));
    if (backend === "webgpu") continue; // the standard models below are the cpu/wasm comparison of make bench
    if (backend === "wasm") {
      env.tfjsWasmSIMD = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
      env.tfjsWasmThreads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    }
    await attempt(rows, "dense AE, batch 128", rt, () => tfTrain("dense", 128, minMs));
    await attempt(rows, "CNN, batch 64", rt, () => tfTrain("cnn", 64, minMs));
    await attempt(rows, "classify 1 digit (CNN)", rt, () => tfClassify());
  }
  log("done");
  return { env, rows };
};
status.textContent = "ready: call runBench()";
