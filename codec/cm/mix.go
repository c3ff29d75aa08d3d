package cm

// The predictors of a context-mixing coder, after lpaq1 (Mahoney): adaptive probability counters,
// a gated logistic mixer and adaptive probability maps, all in integer arithmetic with fixed
// rounding, so every machine computes the same probabilities bit for bit.

// squash(d) = 4096 / (1 + e^(-d/256)), d clamped to ±2047, by interpolation in a 33-entry table.
func squash(d int) int {
	if d > 2047 {
		return 4095
	}
	if d < -2047 {
		return 1
	}
	w := d & 127
	i := (d >> 7) + 16
	return (squashTable[i]*(128-w) + squashTable[i+1]*w + 64) >> 7
}

var squashTable = [33]int{1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047,
	2549, 2994, 3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094}

// stretch(p) = ln(p / (1 - p)) × 256, the inverse of squash, tabulated for 12-bit p.
var stretchTable = func() (t [4096]int16) {
	pi := 0
	for x := -2047; x <= 2047; x++ {
		v := squash(x)
		for j := pi; j <= v; j++ {
			t[j] = int16(x)
		}
		pi = v + 1
	}
	for j := pi; j < 4096; j++ {
		t[j] = 2047
	}
	return t
}()

func stretch(p int) int { return int(stretchTable[p]) }

// counterRate[n] = 2^16 × 2 / (2n + 3): a counter that has seen n bits moves 2/(2n+3) of the way to
// each new bit, which makes it the (Krichevsky–Trofimov-like) frequency of its bits while n is
// below its limit, and an exponential average after.
var counterRate = func() (t [1024]int64) {
	for n := range t {
		t[n] = (2 << 16) / int64(2*n+3)
	}
	return t
}()

// A counter is a probability (22 high bits, stored XOR 1/2 so that the zero value is p = 1/2: fresh
// tables need no initialising pass) and the number of bits it has seen (10 low bits).
type counter uint32

const half = 1 << 31

func (c counter) p() int { return int((uint32(c) ^ half) >> 20) } // 12-bit

func (c *counter) update(bit int, limit uint32) {
	n := uint32(*c) & 1023
	p := int64((uint32(*c) ^ half) >> 10)
	p += ((int64(bit)<<22 - p) * counterRate[n]) >> 16
	p = min(max(p, 1<<10), 1<<22-1<<10) // keep the 12-bit probability within 1..4094
	if n < limit {
		n++
	}
	*c = counter((uint32(p)<<10 | n) ^ half)
}

// mixer combines stretched probabilities with one of several weight sets, trained online to
// minimize coding cost. Weights are 16.16 fixed point.
type mixer struct {
	n    int     // inputs
	w    []int32 // sets × n
	x    []int32 // the current inputs
	nx   int
	set  int
	dot  int // the output, stretched
	pr   int // the output, 12-bit
	rate int64
}

func newMixer(inputs, sets int, rate int64, init int32) *mixer {
	m := &mixer{n: inputs, w: make([]int32, inputs*sets), x: make([]int32, inputs), rate: rate}
	for i := range m.w {
		m.w[i] = init
	}
	return m
}

func (m *mixer) add(st int) { m.x[m.nx] = int32(st); m.nx++ }

// mix computes the output with weight set s.
func (m *mixer) mix(s int) int {
	m.set = s * m.n
	w := m.w[m.set : m.set+m.n]
	var dot int64
	for i, x := range m.x[:m.nx] {
		dot += int64(x) * int64(w[i])
	}
	m.dot = min(max(int(dot>>16), -2047), 2047)
	m.pr = squash(m.dot)
	return m.pr
}

// update trains the weight set used on the coded bit and clears the inputs.
func (m *mixer) update(bit int) {
	err := int64(bit<<12 - m.pr)
	w := m.w[m.set : m.set+m.n]
	for i, x := range m.x[:m.nx] {
		w[i] += int32((int64(x) * err * m.rate) >> 20)
	}
	m.nx = 0
}

// apm refines a probability in a context: 33 buckets over the stretched input, interpolated, the
// nearer one trained (lpaq1's APM).
type apm struct {
	t    []uint16
	idx  int
	rate uint
}

func newAPM(contexts int, rate uint) *apm {
	a := &apm{t: make([]uint16, contexts*33), rate: rate}
	for i := range contexts {
		for j := range 33 {
			a.t[i*33+j] = uint16(squash((j-16)*128) * 16)
		}
	}
	return a
}

func (a *apm) refine(pr, cx int) int {
	pos := (stretch(pr) + 2048) * 32
	w := pos & 4095
	i := cx*33 + pos>>12
	a.idx = i + w>>11
	return (int(a.t[i])*(4096-w) + int(a.t[i+1])*w) >> 16
}

func (a *apm) update(bit int) {
	g := int(bit<<16) + int(bit<<a.rate) - bit - bit
	a.t[a.idx] = uint16(int(a.t[a.idx]) + (g-int(a.t[a.idx]))>>a.rate)
}
