// Package www embeds the demo page so `mnistzip serve` ships it inside the binary. The wasm build
// (make wasm) is served next to it from a folder on disk, because it is built after the binary.
package www

import "embed"

// Files holds the page: HTML, CSS, its scripts (app.js lists them) and the worker script.
//
//go:embed index.html style.css app.js pad.js trainer.js codec.js explore.js worker.js
var Files embed.FS
