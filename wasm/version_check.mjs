// Loads the wasm build under Node and checks that it exposes mnistzip.version() and that the pure-Go
// backend started. Usage: node wasm/version_check.mjs path/to/mnistzip.wasm path/to/wasm_exec.js
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const [wasmPath, execPath] = process.argv.slice(2);
const require = createRequire(import.meta.url);
require(execPath); // defines globalThis.Go

const ready = new Promise((resolve) => { globalThis.onMnistzipReady = resolve; });
const go = new globalThis.Go();
const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), go.importObject);
go.run(instance);
await Promise.race([ready, new Promise((_, reject) => setTimeout(() => reject(new Error("wasm did not start within 60 s")), 60000))]);
const v = globalThis.mnistzip.version();
console.log(JSON.stringify(v));
if (!v.mnistzip || !v.gomlx || !String(v.backend).startsWith("go")) {
  console.error("unexpected version()", v);
  process.exit(1);
}
process.exit(0);
