package idx

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// MaxRank is the largest rank the one-byte rank field can hold.
const MaxRank = 255

// maxDim is the largest dimension the four-byte dimension fields can hold.
const maxDim = math.MaxUint32

// Header describes an IDX file: its element type and its dimensions. The
// first dimension counts items; the rest give the shape of one item.
type Header struct {
	Type Type
	Dims []int
}

// Rank is the number of dimensions.
func (h Header) Rank() int { return len(h.Dims) }

// NumItems is the first dimension, or 1 for a rank-0 (scalar) header.
func (h Header) NumItems() int {
	if len(h.Dims) == 0 {
		return 1
	}
	return h.Dims[0]
}

// ItemSize is the size of one item in bytes: the product of Dims[1:] times
// the element size. It is -1 if the header is invalid (see Validate).
func (h Header) ItemSize() int {
	item, _, err := h.sizes()
	if err != nil {
		return -1
	}
	return int(item)
}

// DataSize is the size of all the data in bytes. It is -1 if the header is
// invalid (see Validate).
func (h Header) DataSize() int64 {
	_, total, err := h.sizes()
	if err != nil {
		return -1
	}
	return int64(total)
}

// HeaderSize is the encoded size of the header in bytes: 4 + 4×rank.
func (h Header) HeaderSize() int { return 4 + 4*len(h.Dims) }

// Validate reports whether h can be encoded and its sizes computed:
// ErrUnknownType, ErrInvalidHeader (rank or a dimension out of range) or
// ErrOverflow.
func (h Header) Validate() error {
	_, _, err := h.sizes()
	return err
}

// sizes computes the item and data sizes exactly, failing rather than
// wrapping around. A zero factor makes a product exactly zero whatever the
// other factors are, so the result does not depend on dimension order.
func (h Header) sizes() (item, total uint64, err error) {
	if !h.Type.Valid() {
		return 0, 0, fmt.Errorf("%w: type code 0x%02x", ErrUnknownType, byte(h.Type))
	}
	if len(h.Dims) > MaxRank {
		return 0, 0, fmt.Errorf("%w: rank %d is above %d", ErrInvalidHeader, len(h.Dims), MaxRank)
	}
	for i, d := range h.Dims {
		if d < 0 || uint64(d) > maxDim {
			return 0, 0, fmt.Errorf("%w: dimension %d is %d, want 0..%d", ErrInvalidHeader, i, d, uint64(maxDim))
		}
	}
	var rest []int
	if len(h.Dims) > 0 {
		rest = h.Dims[1:]
	}
	item, ok := product(uint64(h.Type.Size()), rest)
	// The item size must fit an int because items are handed out as slices.
	if !ok || item > math.MaxInt {
		return 0, 0, fmt.Errorf("%w: item size of %s", ErrOverflow, h)
	}
	total, ok = product(item, []int{h.NumItems()})
	if !ok || total > math.MaxInt64 {
		return 0, 0, fmt.Errorf("%w: data size of %s", ErrOverflow, h)
	}
	return item, total, nil
}

// product multiplies start by dims, reporting false if the exact result does
// not fit a uint64. Dimensions must already be known to be non-negative.
func product(start uint64, dims []int) (uint64, bool) {
	for _, d := range dims {
		if d == 0 {
			return 0, true
		}
	}
	p := start
	for _, d := range dims {
		hi, lo := bits.Mul64(p, uint64(d))
		if hi != 0 {
			return 0, false
		}
		p = lo
	}
	return p, true
}

// String gives the shape and type, e.g. "60000 × 28 × 28 ubyte", or
// "scalar ubyte" for rank 0.
func (h Header) String() string {
	if len(h.Dims) == 0 {
		return "scalar " + h.Type.String()
	}
	var b strings.Builder
	for i, d := range h.Dims {
		if i > 0 {
			b.WriteString(" × ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(' ')
	b.WriteString(h.Type.String())
	return b.String()
}

// MarshalBinary encodes the header: magic then big-endian dimensions.
func (h Header) MarshalBinary() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b := make([]byte, 4, h.HeaderSize())
	b[2] = byte(h.Type)
	b[3] = byte(len(h.Dims))
	for _, d := range h.Dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return b, nil
}

// UnmarshalBinary decodes an encoded header (what MarshalBinary makes, exactly: trailing bytes are
// ErrInvalidHeader) and validates it as NewReader does, without a size limit.
func (h *Header) UnmarshalBinary(b []byte) error {
	r := bytes.NewReader(b)
	rd := &Reader{src: r}
	got, err := rd.readHeader(math.MaxInt64)
	if err != nil {
		return err
	}
	if r.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the %d of header %s", ErrInvalidHeader, r.Len(), got.HeaderSize(), got)
	}
	*h = got
	return nil
}

// clone returns h with its own copy of Dims, so callers cannot alias a
// Reader's or Writer's header.
func (h Header) clone() Header {
	h.Dims = append([]int(nil), h.Dims...)
	return h
}
