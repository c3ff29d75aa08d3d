package cm

// The image model: which contexts predict each decision, and how their predictions are mixed.

// Quantizers of a neighbour's value.
var (
	// q6: background, four bands of anti-aliased edge, the saturated stroke core (252–255).
	q6 = levels(0, 63, 127, 191, 251)
	// q3: background, edge, ink.
	q3 = levels(0, 159)
	// q4: background, faint, strong, saturated.
	q4 = levels(0, 127, 251)
)

func levels(upper ...int) (t [256]uint32) {
	for v := range t {
		for _, u := range upper {
			if v > u {
				t[v]++
			}
		}
	}
	return t
}

const (
	contexts   = 18
	inputs     = contexts + 1 // and a bias
	countLimit = 1023
)

// hash mixes the parts of a context and the model's number into 32 bits.
func hash(model uint32, parts ...uint32) uint32 {
	h := model*0x9E3779B1 + 0x7F4A7C15
	for _, p := range parts {
		h = (h ^ p) * 0x85EBCA77
		h ^= h >> 15
	}
	return h
}

// tableBits: each context's counters, 2^bits of them, sized to about twice the (context, node)
// pairs t10k-images shows it (TestDistinct): fewer collisions paid 4% of the size (with the first
// 14 contexts: 1.015 bits/pixel with 2^18 counters each, 0.990 with 2^20, 0.974 with 2^22).
var tableBits = [contexts]uint32{18, 22, 19, 22, 22, 22, 22, 20, 21, 21, 19, 19, 19, 21, 22, 21, 22, 21}

type model struct {
	buf     [(side + pad) * stride]byte // the image being coded, with background above and beside it
	tables  [contexts][]counter
	bits    [contexts]uint32 // log2 of each table's size
	ctx     [contexts]uint32 // the current pixel's context hashes
	line    [contexts]uint32 // the current line of 16 counters of each context
	invalid bool             // a decoded value was out of range: the payload is corrupt
	slot    [contexts]uint32 // the counters of the current decision
	mixA    *mixer           // weights by decision depth and the west and north pixels
	mixB    *mixer           // weights by decision node
	mixC    *mixer           // weights by decision depth and the region of the image
	final   *mixer           // mixes the three mixers, by decision depth
	region  int
	apm1    *apm
	apm2    *apm
	q6w     uint32
	q6n     uint32
	sel     uint32 // mixA's context part from the neighbours
}

// bitsFor caps a table for n images: about four counters per decision the images can hold (2.5
// decisions a pixel on MNIST), so a small chunk neither allocates nor scatters over 165 MiB.
func bitsFor(i, n int) uint32 {
	b := uint32(12)
	for b < tableBits[i] && 1<<b < n*imageSize*10 {
		b++
	}
	return b
}

// TableBytes is the memory of the counters a model for n images holds (its mixers and maps add
// under 1 MB): 165 MiB from about 550 images up.
func TableBytes(n int) int {
	b := 0
	for i := range contexts {
		b += 4 << bitsFor(i, n)
	}
	return b
}

func newModel(n int) *model {
	m := &model{
		mixA:  newMixer(inputs, 9*36, 300, 1<<14),
		mixB:  newMixer(inputs, 256, 300, 1<<14),
		mixC:  newMixer(inputs, 9*49, 300, 1<<14),
		final: newMixer(3, 9, 100, 65536/3),
		apm1:  newAPM(256*6, 7),
		apm2:  newAPM(256*36, 7),
	}
	for i := range m.tables {
		m.bits[i] = bitsFor(i, n)
		m.tables[i] = make([]counter, 1<<m.bits[i])
	}
	return m
}

// image codes one image: code(p, bit) codes (encoder) or decodes (decoder) one decision with
// probability p (of a 1, 12-bit) and returns the bit; img is read for the encoder's bits and
// written with the pixels as they are coded.
func (m *model) image(img []byte, code func(p, bit int) int) {
	for r := range side {
		row := (r + pad) * stride
		for c := range side {
			at := row + pad + c
			m.contexts(r, c, at)
			v := int(img[r*side+c])
			nz := 0
			if v != 0 {
				nz = 1
			}
			m.lines(0)
			if m.decide(0, 0, 0, nz, code) == 1 {
				// value−1 in 8 bits from the top; node = 1, 2–3, 4–7, …, 128–255. The counters
				// of a context's first 16 nodes (zero-or-not and the top 4 bits) share one
				// 64-byte line, those of the 15 nodes under each of 16…31 another, so a pixel
				// costs a context at most two cache misses instead of nine.
				node, x := 1, v-1
				for depth := 1; depth <= 8; depth++ {
					local := node
					if depth >= 5 {
						sub := depth - 5
						if sub == 0 {
							m.lines(node)
						}
						local = node - (node>>sub)<<sub + 1<<sub
					}
					bit := m.decide(node, local, depth, (x>>(8-depth))&1, code)
					node = node*2 + bit
				}
				v = node - 256 + 1
				if v > 255 { // all eight bits 1: no encoder writes it (value − 1 ≤ 254)
					m.invalid = true
				}
			} else {
				v = 0
			}
			img[r*side+c] = byte(v)
			m.buf[at] = byte(v)
		}
	}
}

func (m *model) contexts(r, c, at int) {
	b := &m.buf
	W, WW, N, NN := uint32(b[at-1]), uint32(b[at-2]), uint32(b[at-stride]), uint32(b[at-2*stride])
	NW, NE, NWW, NEE := uint32(b[at-stride-1]), uint32(b[at-stride+1]), uint32(b[at-stride-2]), uint32(b[at-stride+2])
	NNW, NNE, NNWW, NNEE := uint32(b[at-2*stride-1]), uint32(b[at-2*stride+1]), uint32(b[at-2*stride-2]), uint32(b[at-2*stride+2])
	pos := uint32(r*side + c)
	grad := int(W) + int(N) - int(NW)
	grad = min(max(grad, 0), 255)
	vert := int(N) + int(NE) - int(NNE)
	vert = min(max(vert, 0), 255)

	shape := q3[W]
	for _, v := range [...]uint32{WW, NW, N, NE, NWW, NEE, NN, NNW, NNE, NNWW, NNEE} {
		shape = shape*3 + q3[v]
	}
	row := uint32(0)
	for k := -3; k <= 3; k++ {
		row = row*3 + q3[b[at-stride+k]]
	}
	row = row*27 + q3[W]*9 + q3[WW]*3 + q3[b[at-3]]

	x := &m.ctx
	x[0] = hash(0, pos)
	x[1] = hash(1, W, N)
	x[2] = hash(2, q6[W], q6[N], q6[NW], q6[NE])
	x[3] = hash(3, W, q6[N], q6[NW], q6[NE], q3[WW])
	x[4] = hash(4, N, q6[W], q6[NE], q6[NW], q3[NN])
	x[5] = hash(5, NE, N, q3[W])
	x[6] = hash(6, NW, W, q3[N])
	x[7] = hash(7, uint32(grad), q6[NE])
	x[8] = hash(8, shape)
	x[9] = hash(9, uint32(r/2), uint32(c/2), q3[W], q3[N], q3[NW], q3[NE])
	x[10] = hash(10, (W+NE)/2, q6[N])
	x[11] = hash(11, q4[W], q4[N], q4[NW], q4[NE], q4[WW], q4[NN])
	x[12] = hash(12, uint32(vert), q3[W])
	x[13] = hash(13, row)
	x[14] = hash(14, W, N, NW)
	x[15] = hash(15, pos, q3[W], q3[N])
	x[16] = hash(16, N, NN, q6[NE], q6[W])
	wide := uint32(0)
	for k := -4; k <= 4; k++ {
		wide = wide*9 + q3[b[at-stride+k]]*3 + q3[b[at-2*stride+k]]
	}
	x[17] = hash(17, wide, q3[W], q3[WW], q3[b[at-3]], q3[b[at-4]])

	m.q6w, m.q6n = q6[W], q6[N]
	m.sel = q6[W]*6 + q6[N]
	m.region = r/4*7 + c/4
}

// lines finds each context's line of 16 counters: the first (group 0) or the one under node
// group, 16…31.
func (m *model) lines(group int) {
	g := uint32(group) * 0x2545F491
	for i := range contexts {
		m.line[i] = ((m.ctx[i] ^ g) * 0x9E3779B1 >> (32 - m.bits[i] + 4)) << 4
	}
}

// decide codes one decision: node (0 for zero-or-not, 1–255 for the bits of the value) at depth,
// whose counters are at local in each context's current line.
func (m *model) decide(node, local, depth, bit int, code func(p, bit int) int) int {
	for i := range contexts {
		s := m.line[i] + uint32(local)
		m.slot[i] = s
		st := stretch(m.tables[i][s].p())
		m.mixA.add(st)
		m.mixB.add(st)
		m.mixC.add(st)
	}
	m.mixA.add(256)
	m.mixB.add(256)
	m.mixC.add(256)
	m.mixA.mix(depth*36 + int(m.sel))
	m.mixB.mix(node)
	m.mixC.mix(depth*49 + m.region)
	m.final.add(m.mixA.dot)
	m.final.add(m.mixB.dot)
	m.final.add(m.mixC.dot)
	p := m.final.mix(depth)
	a1 := m.apm1.refine(p, node*6+int(m.q6w))
	a2 := m.apm2.refine(p, node*36+int(m.q6w*6+m.q6n))
	p = (p + a1 + 2*a2 + 2) / 4
	p = min(max(p, 1), 4095)

	bit = code(p, bit)

	for i := range contexts {
		m.tables[i][m.slot[i]].update(bit, countLimit)
	}
	m.mixA.update(bit)
	m.mixB.update(bit)
	m.mixC.update(bit)
	m.final.update(bit)
	m.apm1.update(bit)
	m.apm2.update(bit)
	return bit
}
