// Unit tests of the wasm build's JavaScript API under Node (run by make wasm-test):
// node wasm/api_test.mjs build/www/mnistzip.wasm $(go env GOROOT)/lib/wasm/wasm_exec.js
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const [wasmPath, execPath] = process.argv.slice(2);
createRequire(import.meta.url)(execPath);
const ready = new Promise((resolve) => { globalThis.onMnistzipReady = resolve; });
const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), go.importObject);
go.run(instance);
await ready;
const mz = globalThis.mnistzip;
const root = new URL("../", import.meta.url);
const file = (p) => readFile(new URL(p, root));

// Test digits from testdata/ (raw IDX: 16- and 8-byte headers).
const rawImages = (await file("testdata/t10k-1000-images-idx3-ubyte")).subarray(16);
const labels = (await file("testdata/t10k-1000-labels-idx1-ubyte")).subarray(8);
const images = (n) => Float32Array.from(rawImages.subarray(0, n * 784), (v) => v / 255);
let failures = 0;
async function test(name, fn) {
  const t0 = performance.now();
  try {
    await fn();
    console.log(`ok   ${name} (${(performance.now() - t0).toFixed(0)} ms)`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

await test("load and reconstruct with the shipped autoencoder", async () => {
  const info = mz.load("ae", await file("graphs/models/shipped/ae.safetensors"));
  assert.equal(info.model, "ae");
  assert.equal(info.codeSize, 32);
  const x = images(2);
  const r = mz.reconstruct("ae", x, 2);
  assert.ok(r instanceof Float32Array && r.length === 2 * 784);
  let se = 0;
  for (let i = 0; i < r.length; i++) se += (r[i] - x[i]) ** 2;
  assert.ok(se / r.length < 0.02, `MSE ${se / r.length}`);
  const codes = mz.encode("ae", x, 2);
  assert.equal(codes.length, 64);
  assert.equal(mz.decode("ae", codes, 2).length, 2 * 784);
});

await test("errors reach JavaScript as Error, never a dead worker", async () => {
  assert.throws(() => mz.reconstruct("nope", images(1), 1), /no model named "nope"/);
  assert.throws(() => mz.load("bad", new Uint8Array([1, 2, 3])), Error);
  assert.throws(() => mz.reconstruct("ae", new Float32Array(10), 1), /not 1 images/);
  assert.equal(mz.version().mnistzip.length > 0, true); // still alive
  // The model registry, as the page sees it: every model once, the browser's trainable ones marked.
  const models = mz.models();
  assert.deepEqual(models.map((m) => m.name), ["ae", "dae", "sparse", "vae", "subpixel", "dense", "cnn", "densenet", "capsnet"]);
  assert.deepEqual(models.filter((m) => m.train).map((m) => m.name), ["ae", "vae", "dense", "cnn"]);
  await assert.rejects(mz.train("sparse", { model: "sparse", epochs: 1, batch: 10, val: 0 }, images(10), new Int32Array(10), () => {}), /not trained in the browser/);
  // Node has no WebGPU: the device is refused in one line, and a run asking for it is refused too.
  await assert.rejects(mz.webgpu(), /no WebGPU in this browser/);
  await assert.rejects(mz.gpuCheck({}), /no WebGPU in this browser/);
  await assert.rejects(mz.train("cnn", { model: "cnn", size: "tiny", epochs: 1, batch: 10, val: 0, backend: "webgpu" }, images(10), new Int32Array(10), () => {}),
    /no training backend "webgpu"/);
});

await test("train a dense autoencoder: loss falls, stop ends it within one step", async () => {
  const n = 300;
  const reports = [];
  const info = await mz.train("mine", { model: "dense", epochs: 5, batch: 50, lr: 1e-3, seed: 1, val: 50 }, images(n), labels.subarray(0, n), (p) => {
    reports.push(p);
    if (p.epoch === 2 && p.step === 1) mz.stop();
  });
  assert.equal(info.stopped, true);
  const last = reports.at(-1);
  assert.equal(last.epoch, 2);
  assert.equal(last.step, 1);
  assert.ok(last.loss < reports[0].loss, `loss ${reports[0].loss} → ${last.loss}`);
  assert.ok(reports[0].msPerStep > 0);
  const w = mz.weights("mine");
  assert.ok(w instanceof Uint8Array && w.length > 1000);
  assert.equal(mz.load("again", w).model, "dense");
});

await test("train a CNN and classify with probabilities summing to 1", async () => {
  await mz.train("cnn", { model: "cnn", epochs: 1, batch: 50, seed: 1, val: 0 }, images(100), labels.subarray(0, 100), null);
  const p = mz.classify("cnn", images(2), 2);
  assert.equal(p.length, 20);
  const sum = p.subarray(0, 10).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-6, `sum ${sum}`);
});

await test("decompress a .mz file", async () => {
  const packed = await readFile(process.env.MZ_FILE || new URL("build/www/data/t10k-labels-idx1-ubyte.mz", root));
  let reports = 0;
  const res = mz.decompress(packed, undefined, { onProgress: (done, total) => { reports++; assert.ok(done <= total); } });
  assert.deepEqual(res.dims, [10000]);
  assert.ok(reports >= 1, "no progress reported");
  assert.deepEqual(Array.from(res.data.subarray(0, 10)), Array.from(labels.subarray(0, 10)));
  assert.throws(() => mz.decompress(packed.subarray(0, packed.length - 5)), /truncated/);
});

await test("compress under js/wasm: both levels restore byte for byte; bad input and levels refused", async () => {
  const raw = await file("testdata/t10k-1000-labels-idx1-ubyte");
  for (const level of ["best", "fast"]) {
    const res = mz.compress(raw, { level });
    assert.equal(res.level, level);
    assert.ok(res.mz.length < raw.length && res.rawBytes === raw.length, `${level}: ${res.mz.length} bytes`);
    const back = mz.decompress(res.mz, undefined, { whole: true });
    assert.ok(Buffer.from(back.data).equals(raw), `${level}: the round trip differs`);
  }
  assert.throws(() => mz.compress(new TextEncoder().encode("no IDX here")), /IDX/);
  assert.throws(() => mz.compress(raw, { level: "max" }), /level/);
});

await test("splits held in the worker: a tiny CNN trains on one while probes measure the other", async () => {
  const test = mz.setSplit("test", await file("testdata/t10k-1000-images-idx3-ubyte"), await file("testdata/t10k-1000-labels-idx1-ubyte"));
  mz.setSplit("train", await file("testdata/train-1000-images-idx3-ubyte"), await file("testdata/train-1000-labels-idx1-ubyte"));
  assert.equal(test.n, 1000);
  assert.equal(test.histogram.reduce((a, b) => a + b, 0), 1000);
  const probes = [];
  const res = await mz.train("tiny", { model: "cnn", size: "tiny", epochs: 1, batch: 25, lr: 3e-3, seed: 1, val: 200,
    data: "train", test: "test", probeEvery: 10, probeSize: 200 }, null, null, (p) => { if (p.test) probes.push(p.test); });
  assert.deepEqual(probes.map((p) => p.done), [10, 20, 30, 32]);
  const last = probes.at(-1);
  assert.ok(last.epochEnd && last.n === 1000 && last.confusion.length === 10 && last.accuracy > probes[0].accuracy, JSON.stringify(last).slice(0, 200));
  assert.ok(res.calibration.temperature > 0 && res.temperature === res.calibration.temperature);
  const digits = mz.splitImages("test", 0, 2);
  assert.equal(digits.images.length, 2 * 784);
  assert.deepEqual(Array.from(digits.labels), Array.from(labels.subarray(0, 2)));
  const labelsFile = await file("testdata/t10k-1000-labels-idx1-ubyte");
  assert.throws(() => mz.setSplit("bad", labelsFile, labelsFile), /images/);
});

// Bit-exact across machines: the committed golden files of both format versions (version 2 is the
// context-mixing coder, integer arithmetic throughout) decode here to the very bytes they decode to
// natively (codec/mz TestGoldenFiles).
await test("golden .mz files decode byte-exact under js/wasm", async () => {
  const raw = await file("testdata/t10k-1000-images-idx3-ubyte");
  for (const [name, version] of [["testdata/golden-v1.mz", 1], ["testdata/golden-v2.mz", 2]]) {
    const packed = await file(name);
    assert.equal(packed[4], version, `${name}: format version`);
    const res = mz.decompress(packed);
    assert.deepEqual(res.dims, [1000, 28, 28]);
    assert.ok(Buffer.from(res.data).equals(raw.subarray(16)), `${name}: restored images differ`);
  }
  // A page bounds what a .mz may restore to (it holds the output in memory).
  const v1 = await file("testdata/golden-v1.mz");
  assert.throws(() => mz.decompress(v1, undefined, { maxBytes: 1 << 19 }), /more than 524288 bytes/);
  assert.equal(mz.decompress(v1, undefined, { maxBytes: raw.length, whole: true }).data.length, raw.length);
});

// Weights trained on XLA CPU predict in the browser build what they predicted on XLA: the native test
// TestXLAWeightsOnEngine (graphs/zoo) leaves a CNN and its 1,000 predictions in
// $MNISTZIP_XLA_CHECK_DIR; make test runs it before this.
const xlaDir = process.env.MNISTZIP_XLA_CHECK_DIR;
let xlaCheck = null;
if (xlaDir) {
  try {
    xlaCheck = { weights: await readFile(`${xlaDir}/cnn.safetensors`), expected: JSON.parse(await readFile(`${xlaDir}/cnn-predictions.json`, "utf8")) };
  } catch (e) {
    xlaCheck = null;
  }
}
if (xlaCheck) {
  await test("a CNN trained on XLA CPU classifies 1,000 test digits as it did on XLA", async () => {
    mz.load("xla-cnn", xlaCheck.weights);
    const n = 1000;
    const p = mz.classify("xla-cnn", images(n), n);
    let differ = 0;
    for (let i = 0; i < n; i++) {
      const row = p.subarray(i * 10, i * 10 + 10);
      let best = 0;
      for (let k = 1; k < 10; k++) if (row[k] > row[best]) best = k;
      if (best !== xlaCheck.expected.predictions[i]) differ++;
    }
    assert.equal(differ, 0, `${differ} of ${n} digits classified differently from XLA`);
  });
} else if (process.env.MNISTZIP_REQUIRE_XLA) {
  failures++;
  console.log(`FAIL XLA-trained weights required (MNISTZIP_REQUIRE_XLA) but none in MNISTZIP_XLA_CHECK_DIR=${xlaDir || "(unset)"}`);
} else {
  console.log("skip XLA-trained weights in wasm: none (make test produces them when the XLA CPU plugin is installed)");
}

// Weights trained on a GPU (XLA CUDA) classify in the browser build as they did there: testdata/gpu
// holds the GPU's prediction and margin for each of the first 1,000 test digits (native/gpu/peers.sh);
// the digits the GPU was least sure of are the ones another rounding would flip first.
for (const name of ["densenet-paper", "capsnet-paper"]) {
  await test(`${name}, trained on a GPU, classifies its 20 closest calls as it did there`, async () => {
    const expected = JSON.parse(await file(`testdata/gpu/${name}-predictions.json`));
    const info = mz.load(`gpu-${name}`, await file(`graphs/models/shipped/${name}.safetensors`));
    assert.equal(info.id, expected.weights_id, "the fixture is for other weights");
    const picked = [...expected.margin.keys()].sort((a, b) => expected.margin[a] - expected.margin[b]).slice(0, 20);
    const x = new Float32Array(picked.length * 784);
    picked.forEach((i, k) => x.set(Float32Array.from(rawImages.subarray(i * 784, (i + 1) * 784), (v) => v / 255), k * 784));
    const p = mz.classify(`gpu-${name}`, x, picked.length);
    picked.forEach((i, k) => {
      const row = p.subarray(k * 10, k * 10 + 10);
      let best = 0;
      for (let c = 1; c < 10; c++) if (row[c] > row[best]) best = c;
      assert.equal(best, expected.predicted[i], `digit ${i}: ${best} here, ${expected.predicted[i]} on the GPU (margin ${expected.margin[i]})`);
    });
  });
}

process.exit(failures ? 1 : 0);
