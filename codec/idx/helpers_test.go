package idx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// rawHeader builds header bytes by hand, independently of MarshalBinary,
// so tests can make headers the encoder would refuse.
func rawHeader(typ byte, dims ...uint32) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return b
}

// randomData returns n deterministic pseudo-random bytes.
func randomData(n int64, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// gz compresses b.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encode is WriteAll into a byte slice.
func encode(t testing.TB, h Header, data []byte, opts ...Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAll(&buf, h, data, opts...); err != nil {
		t.Fatalf("WriteAll(%s): %v", h, err)
	}
	return buf.Bytes()
}

// sentinels lists every exported sentinel, to check an error matches
// exactly the expected one.
var sentinels = []error{
	ErrBadMagic, ErrUnknownType, ErrTruncatedHeader, ErrTruncatedData,
	ErrTrailingData, ErrOverflow, ErrTooLarge, ErrGzip, ErrInvalidHeader,
	ErrWrongType, ErrItemSize, ErrDataSize, ErrItemCount, ErrClosed,
}

// matching returns the sentinels err matches.
func matching(err error) []error {
	var m []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			m = append(m, s)
		}
	}
	return m
}
