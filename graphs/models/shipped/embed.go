//go:build !noembed

package shipped

import _ "embed"

// The weights are embedded unless the build is tagged noembed: `make gpu-bundle` leaves them out
// (13.8 MB) so its binary travels to a GPU machine in a small allowance; that binary trains and
// evaluates, and its codec asks for --model.

//go:embed ae.safetensors
var ae []byte

//go:embed ae-rd.safetensors
var aeRD []byte

func init() { AE, LossyAE = ae, aeRD }
