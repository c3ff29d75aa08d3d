package idx

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"testing"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHugeClaimRefusedCheaply: a header claiming 2^31 images of 28×28
// (1.6 TB) is refused before anything is allocated from it.
func TestHugeClaimRefusedCheaply(t *testing.T) {
	for name, file := range map[string][]byte{
		"raw":      rawHeader(0x08, 1<<31, 28, 28),
		"gzip":     gz(t, rawHeader(0x08, 1<<31, 28, 28)),
		"overflow": rawHeader(0x0E, 1<<31, 1<<31, 1<<31, 1<<31),
	} {
		var err error
		n := allocated(func() { _, _, err = ReadAll(bytes.NewReader(file)) })
		if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrOverflow) {
			t.Errorf("%s: %v", name, err)
		}
		// The read buffer (64 KiB) and the gzip decoder are all there is.
		if n > 1<<20 {
			t.Errorf("%s: refusing allocated %d bytes", name, n)
		}
	}
}

// TestBigClaimShortStream: with the limit lifted, a header promising a
// terabyte (on 64-bit) over a ten-byte stream costs memory for the stream only.
func TestBigClaimShortStream(t *testing.T) {
	side := uint32(1 << 20) // a terabyte
	if strconv.IntSize == 32 {
		side = 1 << 15 // a gigabyte: a slice can hold no more
	}
	file := cat(rawHeader(0x08, side, side), make([]byte, 10))
	var err error
	n := allocated(func() { _, _, err = ReadAll(bytes.NewReader(file), MaxDataSize(-1)) })
	if !errors.Is(err, ErrTruncatedData) || n > 1<<20 {
		t.Errorf("ReadAll: %v after allocating %d bytes", err, n)
	}
	n = allocated(func() {
		var rd *Reader
		if rd, err = NewReader(bytes.NewReader(file), MaxDataSize(-1)); err == nil {
			_, err = rd.Next()
		}
	})
	if !errors.Is(err, ErrTruncatedData) || n > 1<<20 {
		t.Errorf("Next: %v after allocating %d bytes", err, n)
	}
}
