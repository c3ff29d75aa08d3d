// The Web Worker hosting the Go WebAssembly build, so long work never freezes the page.
importScripts("wasm_exec.js");

self.onMnistzipReady = () => {
  self.postMessage({ type: "ready", version: self.mnistzip.version() });
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch("mnistzip.wasm"), go.importObject)
  .then(({ instance }) => go.run(instance))
  .catch((err) => self.postMessage({ type: "error", message: String(err) }));

self.onerror = (e) => { self.postMessage({ type: "error", message: String(e.message || e) }); };
