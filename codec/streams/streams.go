// Package streams entropy-codes symbols that a context model has split into numbered streams: each
// stream holds the symbols that occurred in one context, so coding it with its own static order-0
// coder approaches the conditional entropy of the symbols given their contexts.
//
// Each stream is coded with whichever of klauspost/compress's order-0 coders makes it smallest —
// fse (tANS, best for skewed distributions such as "almost always 0"), huff0 (Huffman, smaller
// tables for flat ones, blocks up to 128 KiB) — or stored raw, or as a run of one value. klauspost has
// no coder that switches tables per symbol, so the decoder decodes every stream up front and the
// context model pops symbols from them in the encoder's order.
//
// Layout: uvarint stream count; per stream: uvarint symbol count, and when it is not 0 a mode byte,
// then for raw the symbols, for a run the one value, for fse/huff0 a uvarint length and the payload.
package streams

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/klauspost/compress/fse"
	"github.com/klauspost/compress/huff0"
)

// The ways a stream is stored.
const (
	modeRaw  = 0
	modeRun  = 1
	modeFSE  = 2
	modeHuff = 3
)

// ErrCorrupt reports data that is not a valid stream set (or does not match what the caller
// expects of it).
var ErrCorrupt = errors.New("corrupt entropy-coded streams")

// Encoder collects symbols per stream.
type Encoder struct {
	streams [][]byte
}

// NewEncoder returns an encoder of n streams.
func NewEncoder(n int) *Encoder { return &Encoder{streams: make([][]byte, n)} }

// NewEncoderSized returns an encoder of len(counts) streams with room for counts[s] symbols in
// stream s, all in one allocation: a context model that counts its contexts first codes a chunk
// without growing (and discarding) a slice per stream.
func NewEncoderSized(counts []int) *Encoder {
	total := 0
	for _, c := range counts {
		total += c
	}
	buf := make([]byte, 0, total)
	e := &Encoder{streams: make([][]byte, len(counts))}
	off := 0
	for s, c := range counts {
		e.streams[s] = buf[off:off:min(off+c, total)]
		off += c
	}
	return e
}

// EncodeStream codes syms as the one stream of a one-stream set: the bytes of NewEncoder(1), Put of
// every symbol, then Bytes, without copying syms.
func EncodeStream(syms []byte) ([]byte, error) {
	return (&Encoder{streams: [][]byte{syms}}).Bytes()
}

// Put appends sym to stream s.
func (e *Encoder) Put(s int, sym byte) { e.streams[s] = append(e.streams[s], sym) }

// Len returns the symbols in stream s so far.
func (e *Encoder) Len(s int) int { return len(e.streams[s]) }

// Bytes codes every stream.
func (e *Encoder) Bytes() ([]byte, error) {
	// Each stream's coded form is a few header bytes and a body (the symbols themselves, or a copy of
	// what fse or huff0 made in its reused scratch); the output is allocated once at their total.
	head := binary.AppendUvarint(nil, uint64(len(e.streams)))
	parts := make([][]byte, 0, 2*len(e.streams)+1)
	var fs fse.Scratch
	var hs huff0.Scratch
	for _, s := range e.streams {
		head = binary.AppendUvarint(head, uint64(len(s)))
		if len(s) == 0 {
			continue
		}
		if isRun(s) {
			head = append(head, modeRun, s[0])
			continue
		}
		mode, best := byte(modeRaw), s
		fs.TableLog = 12 // fse's maximum: the finest probabilities, for contexts where one value dominates
		if c, err := fse.Compress(s, &fs); err == nil && len(c) < len(best) {
			mode, best = modeFSE, append([]byte(nil), c...)
		} else if err != nil && !errors.Is(err, fse.ErrIncompressible) && !errors.Is(err, fse.ErrUseRLE) {
			return nil, fmt.Errorf("fse: %w", err)
		}
		if len(s) <= huff0.BlockSizeMax {
			hs.Reuse = huff0.ReusePolicyNone
			if c, _, err := huff0.Compress1X(s, &hs); err == nil && len(c) < len(best) {
				mode, best = modeHuff, append([]byte(nil), c...)
			} else if err != nil && !errors.Is(err, huff0.ErrIncompressible) && !errors.Is(err, huff0.ErrUseRLE) {
				return nil, fmt.Errorf("huff0: %w", err)
			}
		}
		head = append(head, mode)
		if mode != modeRaw {
			head = binary.AppendUvarint(head, uint64(len(best)))
		}
		parts = append(parts, head, best)
		head = nil
	}
	parts = append(parts, head)
	total := 0
	for _, p := range parts {
		total += len(p)
	}
	out := make([]byte, 0, total)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

func isRun(s []byte) bool {
	for _, b := range s[1:] {
		if b != s[0] {
			return false
		}
	}
	return true
}

// Decoder hands out the decoded symbols of each stream in order.
type Decoder struct {
	streams [][]byte
	next    []int
}

// NewDecoder decodes data, which must hold exactly want streams of at most maxSymbols symbols in
// all (the caller knows both from the container, so a corrupt count cannot make it allocate more).
func NewDecoder(data []byte, want, maxSymbols int) (*Decoder, error) {
	n, k := binary.Uvarint(data)
	if k <= 0 || n != uint64(want) {
		return nil, fmt.Errorf("%w: %d streams, want %d", ErrCorrupt, n, want)
	}
	data = data[k:]
	d := &Decoder{streams: make([][]byte, want), next: make([]int, want)}
	total := 0
	var fs fse.Scratch
	var hs huff0.Scratch
	for i := range d.streams {
		count, k := binary.Uvarint(data)
		if k <= 0 || count > uint64(maxSymbols-total) {
			return nil, fmt.Errorf("%w: stream %d claims %d symbols, more than the %d left", ErrCorrupt, i, count, maxSymbols-total)
		}
		data = data[k:]
		total += int(count)
		if count == 0 {
			continue
		}
		if len(data) < 1 {
			return nil, fmt.Errorf("%w: stream %d truncated", ErrCorrupt, i)
		}
		mode := data[0]
		data = data[1:]
		var payload []byte
		switch mode {
		case modeRaw:
			if uint64(len(data)) < count {
				return nil, fmt.Errorf("%w: stream %d truncated", ErrCorrupt, i)
			}
			d.streams[i], data = data[:count], data[count:]
			continue
		case modeRun:
			if len(data) < 1 {
				return nil, fmt.Errorf("%w: stream %d truncated", ErrCorrupt, i)
			}
			s := make([]byte, count)
			for j := range s {
				s[j] = data[0]
			}
			d.streams[i], data = s, data[1:]
			continue
		case modeFSE, modeHuff:
			size, k := binary.Uvarint(data)
			if k <= 0 || size > uint64(len(data)-k) {
				return nil, fmt.Errorf("%w: stream %d truncated", ErrCorrupt, i)
			}
			payload, data = data[k:k+int(size)], data[k+int(size):]
		default:
			return nil, fmt.Errorf("%w: stream %d has unknown mode %d", ErrCorrupt, i, mode)
		}
		var s []byte
		var err error
		if mode == modeFSE {
			fs.DecompressLimit = int(count)
			fs.Out = nil
			s, err = fse.Decompress(payload, &fs)
		} else {
			if count > huff0.BlockSizeMax {
				return nil, fmt.Errorf("%w: stream %d: %d symbols exceed a huff0 block", ErrCorrupt, i, count)
			}
			var rest []byte
			var hsp *huff0.Scratch
			hs.Out = nil
			if hsp, rest, err = huff0.ReadTable(payload, &hs); err == nil {
				hsp.MaxDecodedSize = int(count)
				s, err = hsp.Decoder().Decompress1X(make([]byte, 0, count), rest)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: stream %d: %v", ErrCorrupt, i, err)
		}
		if uint64(len(s)) != count {
			return nil, fmt.Errorf("%w: stream %d decodes to %d symbols, want %d", ErrCorrupt, i, len(s), count)
		}
		d.streams[i] = append([]byte(nil), s...)
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last stream", ErrCorrupt, len(data))
	}
	return d, nil
}

// Next returns the next symbol of stream s.
func (d *Decoder) Next(s int) (byte, error) {
	if d.next[s] >= len(d.streams[s]) {
		return 0, fmt.Errorf("%w: stream %d runs out of symbols", ErrCorrupt, s)
	}
	b := d.streams[s][d.next[s]]
	d.next[s]++
	return b, nil
}

// Done reports whether every symbol of every stream was used: anything left means the data and the
// context model disagree.
func (d *Decoder) Done() error {
	for s, n := range d.next {
		if n != len(d.streams[s]) {
			return fmt.Errorf("%w: stream %d has %d unused symbols", ErrCorrupt, s, len(d.streams[s])-n)
		}
	}
	return nil
}
