// Package shipped embeds the default weights that `make models` trains, so the binary (and the
// WebAssembly build) works without any file beside it.
package shipped

// AE is the convolutional autoencoder (code 32) of the lossless autoencoder hints, and of lossy
// files written before LossyAE. Empty in a build tagged noembed.
var AE []byte

// LossyAE is the rate-distortion autoencoder (zoo size "rd", code 64) the lossy codec uses by
// default. Empty in a build tagged noembed.
var LossyAE []byte

// Embedded reports whether this build carries AE and LossyAE.
func Embedded() bool { return len(AE) > 0 && len(LossyAE) > 0 }
