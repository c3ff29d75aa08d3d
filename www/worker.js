// A Web Worker hosting the Go WebAssembly build, so long work (decoding, training, compressing) never
// freezes the page. The page runs three: one trains (and holds the data), one serves the drawing pad
// (so a prediction never waits behind a training step), one runs the codec panel.
// Protocol: the page posts {id, op, args}; the worker answers {type: "result", id, result | error},
// and on the way {type: "progress", id, progress}. Every failure is answered as a message.
importScripts("wasm_exec.js");

// Turns the Error values the Go functions return into throws (see wasm/main.go). Defined here, not
// built from a string in Go, because the page's Content-Security-Policy has no 'unsafe-eval'.
self.mnistzipWrap = (f) => function (...a) { const r = f(...a); if (r instanceof Error) throw r; return r; };
// The WebGPU backend's dispatch loop (graphs/webgpu RunPassSource: keep the two alike).
self.mnistzipRunPass = (enc, list) => {
  const pass = enc.beginComputePass();
  for (const [p, g, x, y, z] of list) { pass.setPipeline(p); pass.setBindGroup(0, g); pass.dispatchWorkgroups(x, y, z); }
  pass.end();
};

// What the Go program prints (wasm_exec.js writes it with console.log) is kept until it is ready, so
// a program that exits during start-up (a panic, no backend) is reported with its own words.
const startupLog = [];
const consoleLog = console.log;
console.log = (...a) => { if (startupLog.length < 40) startupLog.push(a.join(" ")); consoleLog(...a); };

let markReady, isReady = false;
const ready = new Promise((resolve) => { markReady = resolve; });
self.onMnistzipReady = () => {
  isReady = true;
  console.log = consoleLog;
  markReady();
  self.postMessage({ type: "ready", version: self.mnistzip.version() });
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch("mnistzip.wasm"), go.importObject)
  .then(({ instance }) => go.run(instance))
  .then(() => self.postMessage({ type: "fatal", message: (isReady ? "mnistzip.wasm stopped" : "mnistzip.wasm exited while starting") +
    (startupLog.length ? ": " + startupLog.join("\n") : "") }))
  .catch((err) => self.postMessage({ type: "fatal", message: "loading mnistzip.wasm: " + String(err) }));

// ---- the data cache: decoded IDX files in IndexedDB, keyed by file name, valid for one .mz SHA-256 ----
// (A database of its own: the page's "mnistzip" database holds saved weights at version 1.)
function dataDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open("mnistzip-data", 1);
    req.onupgradeneeded = () => req.result.createObjectStore("files");
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
async function cacheDo(mode, fn) {
  const d = await dataDB();
  try {
    return await new Promise((resolve, reject) => {
      const tx = d.transaction("files", mode);
      const req = fn(tx.objectStore("files"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
    });
  } finally {
    d.close();
  }
}

// fetchBytes downloads url, reporting bytes received; a wrong size is an error (a truncated download
// must not reach the decoder's cache).
async function fetchBytes(url, expected, report) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const out = new Uint8Array(expected);
  let done = 0;
  const reader = r.body.getReader();
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    if (done + value.length > expected) throw new Error(`${url}: more than the ${expected} bytes data/index.json lists`);
    out.set(value, done);
    done += value.length;
    report(done);
  }
  if (done !== expected) throw new Error(`${url}: ${done} bytes, data/index.json lists ${expected}`);
  return out;
}

// loadData puts the whole of MNIST into the Go side (splits "train" and "test"): from the cache when
// it holds the files data/index.json lists, otherwise downloaded as .mz, decoded here and cached.
async function loadData(progress) {
  const t0 = performance.now();
  const r = await fetch("data/index.json", { cache: "no-cache" });
  if (!r.ok) throw new Error(`data/index.json: HTTP ${r.status}`);
  const index = await r.json();
  const files = {}, rows = [];
  const totalMz = index.files.reduce((s, f) => s + f.mzBytes, 0);
  let mzDone = 0;
  for (const f of index.files) {
    const t = performance.now();
    let cached = null;
    try { cached = await cacheDo("readonly", (s) => s.get(f.name)); } catch (e) { cached = null; }
    const row = { name: f.name, mzBytes: f.mzBytes, gzipBytes: f.gzipBytes, rawBytes: f.rawBytes, transferred: 0 };
    if (cached && cached.sha256 === f.sha256 && cached.data.length === f.rawBytes) {
      files[f.name] = cached.data;
      row.source = "cache";
      progress({ phase: "cache", file: f.name, done: mzDone += f.mzBytes, total: totalMz });
    } else {
      const before = mzDone;
      const mz = await fetchBytes(`data/${f.name}.mz`, f.mzBytes, (n) => progress({ phase: "download", file: f.name, done: before + n / 2, total: totalMz }));
      row.downloadMs = performance.now() - t;
      const td = performance.now();
      const res = self.mnistzip.decompress(mz, undefined, { whole: true, maxBytes: f.rawBytes,
        onProgress: (n, total) => progress({ phase: "decode", file: f.name, done: before + f.mzBytes / 2 + n / total * f.mzBytes / 2, total: totalMz }) });
      row.decodeMs = performance.now() - td;
      mzDone = before + f.mzBytes;
      files[f.name] = res.data;
      row.source = "network";
      row.transferred = f.mzBytes;
      try {
        await cacheDo("readwrite", (s) => s.put({ sha256: f.sha256, data: res.data }, f.name));
      } catch (e) {
        row.cacheError = String(e.message || e); // private windows and full disks: the page still works
      }
    }
    row.ms = performance.now() - t;
    rows.push(row);
  }
  const t1 = performance.now();
  const train = self.mnistzip.setSplit("train", files["train-images-idx3-ubyte"], files["train-labels-idx1-ubyte"]);
  const test = self.mnistzip.setSplit("test", files["t10k-images-idx3-ubyte"], files["t10k-labels-idx1-ubyte"]);
  const images = files["t10k-images-idx3-ubyte"], labels = files["t10k-labels-idx1-ubyte"];
  return { files: rows, train, test, splitMs: performance.now() - t1, ms: performance.now() - t0,
    testImages: images.slice(16), testLabels: labels.slice(8) };
}

self.onmessage = async ({ data }) => {
  const { id, op, args } = data;
  if (op === "stop") { // answered at once, even while a training run holds the worker
    await ready;
    self.mnistzip.stop();
    self.postMessage({ type: "result", id, result: null });
    return;
  }
  const progress = (p) => self.postMessage({ type: "progress", id, progress: p });
  try {
    await ready;
    let result;
    if (op === "loadData") {
      result = await loadData(progress);
    } else if (op === "train") {
      const [name, spec, images, labels] = args;
      result = await self.mnistzip.train(name, spec, images ?? null, labels ?? null, progress);
    } else if (op === "compress" || op === "decompress") {
      const [bytes, opts] = args;
      const t = performance.now();
      result = op === "compress"
        ? self.mnistzip.compress(bytes, { ...opts, onProgress: (done, total) => progress({ done, total }) })
        : self.mnistzip.decompress(bytes, opts?.aeWeights, { ...opts, onProgress: (done, total) => progress({ done, total }) });
      result.ms = performance.now() - t;
    } else if (typeof self.mnistzip[op] === "function") {
      result = await self.mnistzip[op](...args); // await: some ops return a Promise, which postMessage cannot clone
    } else {
      throw new Error("unknown operation " + op);
    }
    self.postMessage({ type: "result", id, result });
  } catch (e) {
    self.postMessage({ type: "result", id, error: String((e && e.message) || e) });
  }
};

self.onerror = (e) => { self.postMessage({ type: "fatal", message: String(e.message || e) }); };
