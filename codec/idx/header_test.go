package idx

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"testing"
)

func TestTypes(t *testing.T) {
	want := map[Type]struct {
		name string
		size int
	}{
		Ubyte: {"ubyte", 1}, Sbyte: {"sbyte", 1}, Int16: {"int16", 2},
		Int32: {"int32", 4}, Float32: {"float32", 4}, Float64: {"float64", 8},
	}
	if len(Types()) != len(want) {
		t.Fatalf("Types() = %v", Types())
	}
	for _, typ := range Types() {
		w := want[typ]
		if typ.String() != w.name || typ.Size() != w.size || !typ.Valid() {
			t.Errorf("%#x: String %q Size %d Valid %v, want %q %d true", byte(typ), typ, typ.Size(), typ.Valid(), w.name, w.size)
		}
	}
	if bad := Type(0x0A); bad.Valid() || bad.Size() != 0 || bad.String() != "Type(0x0a)" {
		t.Errorf("Type(0x0A): Valid %v Size %d String %q", bad.Valid(), bad.Size(), bad)
	}
}

func TestHeaderSizes(t *testing.T) {
	for _, tc := range []struct {
		h           Header
		str         string
		items, item int
		data        int64
		headerSize  int
	}{
		{Header{Ubyte, []int{60000, 28, 28}}, "60000 × 28 × 28 ubyte", 60000, 784, 47040000, 16},
		{Header{Ubyte, []int{60000}}, "60000 ubyte", 60000, 1, 60000, 8},
		{Header{Float64, []int{3, 2}}, "3 × 2 float64", 3, 16, 48, 12},
		{Header{Int16, nil}, "scalar int16", 1, 2, 2, 4},
		{Header{Int32, []int{0, 5}}, "0 × 5 int32", 0, 20, 0, 12},
		{Header{Sbyte, []int{7, 0, 3}}, "7 × 0 × 3 sbyte", 7, 0, 0, 16},
	} {
		h := tc.h
		if h.String() != tc.str || h.NumItems() != tc.items || h.ItemSize() != tc.item || h.DataSize() != tc.data || h.HeaderSize() != tc.headerSize {
			t.Errorf("%v: got %q items %d item %d data %d hdr %d", h.Dims, h, h.NumItems(), h.ItemSize(), h.DataSize(), h.HeaderSize())
		}
	}
}

func TestHeaderValidate(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("the cases need 64-bit ints")
	}
	// big converts at run time so that this compiles where int is 32 bits.
	big := func(u uint64) int { return int(u) }
	const m = math.MaxUint32
	for _, tc := range []struct {
		h    Header
		want error
	}{
		{Header{Type(0), []int{1}}, ErrUnknownType},
		{Header{Ubyte, make([]int, 256)}, ErrInvalidHeader},
		{Header{Ubyte, []int{-1}}, ErrInvalidHeader},
		{Header{Ubyte, []int{big(m + 1)}}, ErrInvalidHeader},
		{Header{Float64, []int{big(m), big(m), big(m)}}, ErrOverflow},
		// A zero first dimension does not make an overflowing item size valid.
		{Header{Ubyte, []int{0, big(m), big(m), big(m)}}, ErrOverflow},
		// A zero later dimension makes the item size exactly zero.
		{Header{Ubyte, []int{big(m), 0, big(m), big(m)}}, nil},
		{Header{Ubyte, make([]int, 255)}, nil},
	} {
		err := tc.h.Validate()
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%v: Validate() = %v, want %v", tc.h.Dims, err, tc.want)
		}
		if err != nil && (tc.h.ItemSize() != -1 || tc.h.DataSize() != -1) {
			t.Errorf("%v: invalid header has sizes %d, %d", tc.h.Dims, tc.h.ItemSize(), tc.h.DataSize())
		}
		if _, merr := tc.h.MarshalBinary(); !errors.Is(merr, tc.want) || (err == nil) != (merr == nil) {
			t.Errorf("%v: MarshalBinary error %v, want %v", tc.h.Dims, merr, err)
		}
	}
}

func TestMarshalBinary(t *testing.T) {
	got, err := Header{Int16, []int{2, 0x01020304}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0x0B, 2, 0, 0, 0, 2, 1, 2, 3, 4}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}
