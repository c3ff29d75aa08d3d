// Package weights reads and writes trained models in one file format shared
// by the native CLI and the browser build (js/wasm): everything works on
// []byte, io.Reader and io.Writer, and only ReadFile/WriteFile touch a
// filesystem.
//
// # Layout
//
// Files use the safetensors layout, so Python's `safetensors` library can
// open them unchanged:
//
//	[8 bytes]  N, little-endian uint64: length of the JSON header
//	[N bytes]  JSON header, padded with spaces to a multiple of 8 bytes:
//	           {"__metadata__": {string: string},
//	            "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
//	[rest]     raw little-endian tensor data; offsets are relative to it
//
// Writers sort tensors by name, in the header and in the data region, so the
// same model always encodes to the same bytes.
//
// # Metadata
//
// "__metadata__" (all values are strings, as the safetensors spec requires):
//
//   - "format": "mnistzip-weights" — refuses unrelated safetensors files.
//   - "format_version": "1".
//   - "manifest": JSON of [Manifest] (model name, config, training command...).
//   - "checksum": "sha256:<hex>", see below.
//
// # Checksum
//
// The checksum is SHA-256 over, in order (u64 = little-endian uint64,
// bytes(x) = u64(len(x)) followed by x):
//
//	bytes(manifest string exactly as stored)
//	u64(number of tensors)
//	for each tensor in name order:
//	    bytes(name) bytes(dtype) u64(rank) u64(dim)... u64(begin) u64(end)
//	the whole data region
//
// It covers the tensor table as well as the data and the manifest, so a flipped
// data byte, an edited manifest, a renamed tensor or a reshaped tensor are all
// detected. The first 16 hex digits of it are the model identity (File.ID),
// which compressed files record to refuse decoding with a different model.
//
// # Why not a library
//
// No maintained pure-Go safetensors package with a writer and metadata
// support fits: github.com/nlpodyssey/safetensors is unmaintained since 2025
// and only reads. The format is small enough to implement here (encode.go,
// decode.go), with strict validation so any input fails with an error and
// never a panic.
package weights
