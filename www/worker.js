// The Web Worker hosting the Go WebAssembly build, so long work (training) never freezes the page.
// Protocol: the page posts {id, op, args}; the worker answers {type: "result", id, result | error},
// and during training {type: "progress", id, progress}. Every failure is answered as a message.
importScripts("wasm_exec.js");

// Turns the Error values the Go functions return into throws (see wasm/main.go). Defined here, not
// built from a string in Go, because the page's Content-Security-Policy has no 'unsafe-eval'.
self.mnistzipWrap = (f) => function (...a) { const r = f(...a); if (r instanceof Error) throw r; return r; };

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

self.onmessage = async ({ data }) => {
  const { id, op, args } = data;
  if (op === "stop") { // answered at once, even while a training run holds the worker
    await ready;
    self.mnistzip.stop();
    self.postMessage({ type: "result", id, result: null });
    return;
  }
  try {
    await ready;
    let result;
    if (op === "train") {
      const [name, spec, images, labels] = args;
      result = await self.mnistzip.train(name, spec, images, labels,
        (progress) => self.postMessage({ type: "progress", id, progress }));
    } else if (typeof self.mnistzip[op] === "function") {
      result = self.mnistzip[op](...args);
    } else {
      throw new Error("unknown operation " + op);
    }
    self.postMessage({ type: "result", id, result });
  } catch (e) {
    self.postMessage({ type: "result", id, error: String((e && e.message) || e) });
  }
};

self.onerror = (e) => { self.postMessage({ type: "fatal", message: String(e.message || e) }); };
