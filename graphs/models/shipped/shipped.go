// Package shipped embeds the default weights that `make models` trains, so the binary (and the
// WebAssembly build) works without any file beside it.
package shipped

import _ "embed"

// AE is the convolutional autoencoder (code 32) of the lossless autoencoder hints, and of lossy
// files written before LossyAE.
//
//go:embed ae.safetensors
var AE []byte

// LossyAE is the rate-distortion autoencoder (zoo size "rd", code 64) the lossy codec uses by
// default.
//
//go:embed ae-rd.safetensors
var LossyAE []byte
