// Package shipped embeds the default weights that `make models` trains, so the binary (and the
// WebAssembly build) works without any file beside it.
package shipped

import _ "embed"

// AE is the convolutional autoencoder (code 32) the codec uses by default.
//
//go:embed ae.safetensors
var AE []byte
