// Package pixels codes 28×28 8-bit images losslessly with a context model: each pixel goes to the
// stream of its context — the quantized values of its causal neighbours, and optionally a hint per
// pixel that both sides know (the quantized autoencoder reconstruction) — and the streams are
// entropy-coded by package streams. Decoding walks the pixels in the same raster order, rebuilds each
// context from the pixels already decoded and takes the next symbol of that context's stream.
package pixels

import (
	"fmt"

	"github.com/mnistzip/mnistzip/codec/streams"
)

const (
	side      = 28
	imageSize = side * side
)

// Model is a context model.
type Model byte

const (
	// Basic: west, north, north-west and north-east, 6 levels each (1,296 contexts). Best for
	// chunks of about 10,000 images and fewer: every context's coding table is paid once per chunk.
	Basic Model = 0
	// Rich adds the pixels two to the west and two to the north at 3 levels (11,664 contexts).
	// Best for large chunks (1.197 bits/pixel on train-images in two chunks, against Basic's 1.215).
	Rich Model = 1
	// Small: west and north only (36 contexts), for small chunks, where tables would dominate.
	Small Model = 2
)

// Models lists the context models.
var Models = []Model{Basic, Rich, Small}

func (m Model) String() string {
	switch m {
	case Basic:
		return "basic"
	case Rich:
		return "rich"
	case Small:
		return "small"
	}
	return fmt.Sprintf("model(%d)", byte(m))
}

// neighbourLevel quantizes a near neighbour: 0 (background, 81% of MNIST), four bands of
// anti-aliased edge, and 252–255 (stroke core, where the ink saturates).
var neighbourLevel = levels(0, 63, 127, 191, 251)

const neighbourLevels = 6

// farLevel quantizes a neighbour two pixels away: background, edge, ink.
var farLevel = levels(0, 159)

func levels(upper ...int) (t [256]uint8) {
	for v := range t {
		for _, u := range upper {
			if v > u {
				t[v]++
			}
		}
	}
	return t
}

const nearContexts = neighbourLevels * neighbourLevels * neighbourLevels * neighbourLevels

// A pixel is coded as a token and, for the anti-aliased middle values, a remainder. Splitting the
// 256-value alphabet this way keeps each context's token alphabet small (21 values): a static coder
// must give every value that occurs at least 1/4096 of the probability, and in a background context
// where 0 has 99% of the mass, 250 rare values would take 6% of it from 0 (measured: 1.25 bits/pixel
// coding whole bytes, 1.21 with tokens).
const (
	tokens     = 21 // 0; 252, 253, 254, 255; 16 bands of 16 values over 1…251
	bandStart  = 5
	bands      = 16
	remainders = 16
)

func tokenOf(v byte) (tok, rem byte) {
	switch {
	case v == 0:
		return 0, 0
	case v >= 252:
		return 1 + v - 252, 0
	}
	return bandStart + (v-1)/remainders, (v - 1) % remainders
}

func valueOf(tok, rem byte) byte {
	switch {
	case tok == 0:
		return 0
	case tok < bandStart:
		return 252 + tok - 1
	}
	return 1 + (tok-bandStart)*remainders + rem
}

// layout numbers the streams of a model with hintLevels hint levels: token contexts, then the hint
// contexts of an all-background neighbourhood, then the remainder contexts.
type layout struct {
	model      Model
	hintLevels int
	tokenCtx   int // token contexts before the hint ones
}

func newLayout(m Model, hintLevels int) (layout, error) {
	l := layout{model: m, hintLevels: hintLevels, tokenCtx: nearContexts}
	switch m {
	case Basic:
	case Rich:
		l.tokenCtx *= 9
	case Small:
		l.tokenCtx = neighbourLevels * neighbourLevels
	default:
		return l, fmt.Errorf("%w: unknown context model %d", streams.ErrCorrupt, m)
	}
	if hintLevels < 1 || hintLevels > 256 {
		return l, fmt.Errorf("pixels: %d hint levels", hintLevels)
	}
	return l, nil
}

func (l layout) streams() int { return l.tokenCtx + l.hintLevels + remainderContexts }

func (l layout) tokenContext(img []byte, r, c int, hint uint8) int {
	var w, n, nw, ne uint8
	if c > 0 {
		w = neighbourLevel[img[r*side+c-1]]
	}
	if r > 0 {
		n = neighbourLevel[img[(r-1)*side+c]]
		if c > 0 {
			nw = neighbourLevel[img[(r-1)*side+c-1]]
		}
		if c < side-1 {
			ne = neighbourLevel[img[(r-1)*side+c+1]]
		}
	}
	k := ((int(w)*neighbourLevels+int(n))*neighbourLevels+int(nw))*neighbourLevels + int(ne)
	if l.model == Small {
		k = int(w)*neighbourLevels + int(n)
	}
	if l.model == Rich {
		var ww, nn uint8
		if c > 1 {
			ww = farLevel[img[r*side+c-2]]
		}
		if r > 1 {
			nn = farLevel[img[(r-2)*side+c]]
		}
		k = k*9 + int(ww)*3 + int(nn)
	}
	if k == 0 && l.hintLevels > 1 {
		// Background all around: only here does a reconstruction know much more than the
		// neighbours (where a stroke starts), so only here is it worth its coding tables.
		return l.tokenCtx + int(hint)
	}
	return k
}

// remainderContexts: a band's remainder is coded in the context of the band and the west and north
// neighbours' levels.
const remainderContexts = bands * neighbourLevels * neighbourLevels

func (l layout) remainderContext(img []byte, r, c int, tok byte) int {
	var w, n uint8
	if c > 0 {
		w = neighbourLevel[img[r*side+c-1]]
	}
	if r > 0 {
		n = neighbourLevel[img[(r-1)*side+c]]
	}
	return l.tokenCtx + l.hintLevels + (int(tok-bandStart)*neighbourLevels+int(w))*neighbourLevels + int(n)
}

// prepare checks the hints against the pixel count (none means hintLevels 1) and lays out the streams.
func prepare(m Model, hints []uint8, hintLevels, pixels int) (layout, error) {
	if (hints == nil) != (hintLevels == 1) || (hints != nil && len(hints) != pixels) {
		return layout{}, fmt.Errorf("pixels: %d hints at %d levels for %d pixels", len(hints), hintLevels, pixels)
	}
	return newLayout(m, hintLevels)
}

func hintAt(hints []uint8, i int) uint8 {
	if hints == nil {
		return 0
	}
	return hints[i]
}

// Encode codes images (n×784 bytes) with model m. hints, if not nil, holds one value in
// [0, hintLevels) per pixel; without hints hintLevels must be 1.
func Encode(images []byte, m Model, hints []uint8, hintLevels int) ([]byte, error) {
	if len(images)%imageSize != 0 {
		return nil, fmt.Errorf("pixels: %d bytes is not a whole number of 28×28 images", len(images))
	}
	l, err := prepare(m, hints, hintLevels, len(images))
	if err != nil {
		return nil, err
	}
	// Count each stream's symbols first, so the streams are allocated once at their sizes: a chunk
	// of 30,000 images is 27 million symbols, which growing slices would copy several times over.
	// (Two copies of the loop rather than one with a callback: the call per symbol costs a third.)
	counts := make([]int, l.streams())
	for i := 0; i < len(images); i += imageSize {
		img := images[i : i+imageSize]
		for r := range side {
			for c := range side {
				tok, _ := tokenOf(img[r*side+c])
				counts[l.tokenContext(img, r, c, hintAt(hints, i+r*side+c))]++
				if tok >= bandStart {
					counts[l.remainderContext(img, r, c, tok)]++
				}
			}
		}
	}
	enc := streams.NewEncoderSized(counts)
	for i := 0; i < len(images); i += imageSize {
		img := images[i : i+imageSize]
		for r := range side {
			for c := range side {
				tok, rem := tokenOf(img[r*side+c])
				enc.Put(l.tokenContext(img, r, c, hintAt(hints, i+r*side+c)), tok)
				if tok >= bandStart {
					enc.Put(l.remainderContext(img, r, c, tok), rem)
				}
			}
		}
	}
	return enc.Bytes()
}

// Decode restores n images from data with the model and hints Encode was given.
func Decode(data []byte, n int, m Model, hints []uint8, hintLevels int) ([]byte, error) {
	l, err := prepare(m, hints, hintLevels, n*imageSize)
	if err != nil {
		return nil, err
	}
	dec, err := streams.NewDecoder(data, l.streams(), 2*n*imageSize)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n*imageSize)
	for i := 0; i < len(out); i += imageSize {
		img := out[i : i+imageSize]
		for r := range side {
			for c := range side {
				h := hintAt(hints, i+r*side+c)
				tok, err := dec.Next(l.tokenContext(img, r, c, h))
				if err != nil {
					return nil, err
				}
				var rem byte
				switch {
				case tok >= tokens:
					return nil, fmt.Errorf("%w: token %d", streams.ErrCorrupt, tok)
				case tok >= bandStart:
					if rem, err = dec.Next(l.remainderContext(img, r, c, tok)); err != nil {
						return nil, err
					}
					if rem >= remainders || int(tok-bandStart)*remainders+int(rem) > 250 {
						return nil, fmt.Errorf("%w: remainder %d in band %d", streams.ErrCorrupt, rem, tok-bandStart)
					}
				}
				img[r*side+c] = valueOf(tok, rem)
			}
		}
	}
	return out, dec.Done()
}
