// Package cm codes 28×28 8-bit images losslessly by context mixing: each pixel is coded as binary
// decisions (zero or not, then the 8 bits of value−1 from the top), each decision's probability
// comes from a logistic mixer over adaptive counters selected by contexts of the pixels already
// coded (the causal neighbourhood, the position in the image), refined by adaptive probability
// maps, and drives a binary arithmetic coder. Everything is integer arithmetic, so a payload decodes
// bit-exact on every machine and under js/wasm.
package cm

import (
	"errors"
	"fmt"
)

const (
	side      = 28
	imageSize = side * side
	pad       = 4
	stride    = side + 2*pad // a padded row: four background pixels on each side
)

// ErrCorrupt: the payload is not one this package wrote for that many images.
var ErrCorrupt = errors.New("cm: corrupt payload")

// Encode codes n images (n × 784 bytes).
func Encode(images []byte, n int) ([]byte, error) {
	if n < 0 || len(images) != n*imageSize {
		return nil, fmt.Errorf("cm: %d bytes are not %d images", len(images), n)
	}
	m := newModel(n)
	e := newEncoder(make([]byte, 0, len(images)/6))
	for i := range n {
		m.image(images[i*imageSize:(i+1)*imageSize], func(p int, bit int) int { e.encode(bit, p); return bit })
	}
	return e.finish(), nil
}

// Decode restores n images from a payload Encode wrote.
func Decode(payload []byte, n int) ([]byte, error) {
	if n < 0 || len(payload) < 4 {
		return nil, fmt.Errorf("%w: %d images in %d bytes", ErrCorrupt, n, len(payload))
	}
	m := newModel(n)
	d := newDecoder(payload)
	out := make([]byte, n*imageSize)
	for i := range n {
		m.image(out[i*imageSize:(i+1)*imageSize], func(p int, _ int) int { return d.decode(p) })
		if m.invalid {
			return nil, fmt.Errorf("%w: a pixel of image %d codes the value 256", ErrCorrupt, i+1)
		}
		if d.overrun > 0 { // the encoder ends with 4 bytes: a decoder that needs more has a cut payload
			return nil, fmt.Errorf("%w: it ends inside image %d of %d", ErrCorrupt, i+1, n)
		}
	}
	if d.pos != len(payload) {
		return nil, fmt.Errorf("%w: %d bytes after the last image", ErrCorrupt, len(payload)-d.pos)
	}
	return out, nil
}
