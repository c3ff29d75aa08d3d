// The peer of `mnistzip bench`: the same W1 and W2 training steps (architecture, loss, Adam, batch)
// in TensorFlow.js under Node, on its pure-JS "cpu" backend and its WebAssembly backend (SIMD, one
// thread here). Prints one JSON object: {"W1": {"tfjs-cpu": secPerStep, "tfjs-wasm": ...}, ...}.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

const minSeconds = Number(process.argv[2] || 5);

function w1() {
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [784], units: 512, activation: "relu" }),
    tf.layers.dense({ units: 32 }),
    tf.layers.dense({ units: 512, activation: "relu" }),
    tf.layers.dense({ units: 784, activation: "sigmoid" }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: "meanSquaredError" });
  const x = tf.randomUniform([128, 784]);
  return { model, x, y: tf.randomUniform([128, 784]) };
}

function w2() {
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
    tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: "same", activation: "relu" }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 128, activation: "relu" }),
    tf.layers.dense({ units: 10 }),
  ] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits) });
  const x = tf.randomUniform([64, 28, 28, 1]);
  const labels = tf.oneHot(tf.randomUniform([64], 0, 10, "int32"), 10);
  return { model, x, y: labels };
}

async function time(make) {
  const { model, x, y } = make();
  await model.trainOnBatch(x, y); // warm-up
  let steps = 0;
  const start = performance.now();
  while (steps < 2 || performance.now() - start < minSeconds * 1000) {
    await model.trainOnBatch(x, y);
    steps++;
  }
  return (performance.now() - start) / 1000 / steps;
}

const results = { W1: {}, W2: {} };
for (const backend of ["cpu", "wasm"]) {
  await tf.setBackend(backend);
  await tf.ready();
  for (const [name, make] of [["W1", w1], ["W2", w2]]) {
    try {
      results[name][`tfjs-${backend}`] = await time(make);
    } catch (e) {
      // e.g. tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel: it cannot train W2.
      results[name][`tfjs-${backend}`] = String(e.message || e).split("\n")[0];
    }
    console.error(`tfjs-${backend} ${name}: ${results[name][`tfjs-${backend}`]}`);
  }
}
console.log(JSON.stringify(results));
