package cm

// The binary arithmetic coder of lpaq1/paq8 (carry-less, 32-bit range, 12-bit probabilities), in
// integer arithmetic only, so encoder and decoder agree on every machine and under js/wasm.
// Written here rather than taken from a library: klauspost/compress has no adaptive binary coder,
// and the mixer's probabilities must drive the coder bit by bit.

type encoder struct {
	x1, x2 uint32
	out    []byte
}

func newEncoder(out []byte) *encoder { return &encoder{x2: 0xffffffff, out: out} }

// encode codes bit (0 or 1) with p1 = P(bit = 1) in 1/4096 units, 1 ≤ p1 ≤ 4095.
func (e *encoder) encode(bit int, p1 int) {
	xmid := e.x1 + uint32((uint64(e.x2-e.x1)*uint64(p1))>>12)
	if bit != 0 {
		e.x2 = xmid
	} else {
		e.x1 = xmid + 1
	}
	for (e.x1^e.x2)&0xff000000 == 0 {
		e.out = append(e.out, byte(e.x2>>24))
		e.x1 <<= 8
		e.x2 = e.x2<<8 | 255
	}
}

// finish writes the 4 bytes that place the decoder inside the final range.
func (e *encoder) finish() []byte {
	x := e.x1
	return append(e.out, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
}

type decoder struct {
	x1, x2, x uint32
	in        []byte
	pos       int
	overrun   int // bytes read past the end (as zeros): any means a corrupt payload
}

func newDecoder(in []byte) *decoder {
	d := &decoder{x2: 0xffffffff, in: in}
	for range 4 {
		d.x = d.x<<8 | uint32(d.next())
	}
	return d
}

func (d *decoder) next() byte {
	if d.pos < len(d.in) {
		b := d.in[d.pos]
		d.pos++
		return b
	}
	d.overrun++
	return 0
}

func (d *decoder) decode(p1 int) int {
	xmid := d.x1 + uint32((uint64(d.x2-d.x1)*uint64(p1))>>12)
	bit := 0
	if d.x <= xmid {
		bit = 1
		d.x2 = xmid
	} else {
		d.x1 = xmid + 1
	}
	for (d.x1^d.x2)&0xff000000 == 0 {
		d.x1 <<= 8
		d.x2 = d.x2<<8 | 255
		d.x = d.x<<8 | uint32(d.next())
	}
	return bit
}
