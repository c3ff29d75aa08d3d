package idx

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestReaderRead: Read streams the data of any type, raw or gzip, in reads of any size; at the end
// it reports io.EOF, or the trailing data or truncation, like ReadAll.
func TestReaderRead(t *testing.T) {
	for _, h := range []Header{{Ubyte, []int{1000}}, {Int16, []int{7, 33}}, {Float64, []int{3, 2, 5}}, {Ubyte, nil}, {Ubyte, []int{4, 0}}} {
		data := randomData(h.DataSize(), 9)
		file := encode(t, h, data)
		for _, in := range [][]byte{file, gz(t, file)} {
			rd, err := NewReader(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			buf := make([]byte, 13)
			for {
				n, err := rd.Read(buf)
				got.Write(buf[:n])
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", h, err)
				}
			}
			if !bytes.Equal(got.Bytes(), data) {
				t.Errorf("%s: Read gave %d bytes, want %d", h, got.Len(), len(data))
			}
		}
	}
	h := Header{Int16, []int{100}}
	file := encode(t, h, randomData(200, 3))
	for name, c := range map[string]struct {
		in   []byte
		want error
	}{
		"cut":      {file[:len(file)-3], ErrTruncatedData},
		"trailing": {append(bytes.Clone(file), 0), ErrTrailingData},
		"cut gzip": {gz(t, file)[:40], ErrTruncatedData},
	} {
		rd, err := NewReader(bytes.NewReader(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rd); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Item reads follow a Read only at an item boundary.
	rd, _ := NewReader(bytes.NewReader(file))
	if n, err := rd.Read(make([]byte, 3)); n != 3 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := rd.Next(); !errors.Is(err, ErrItemSize) {
		t.Errorf("Next inside an item: %v", err)
	}
	rd.Read(make([]byte, 1))
	if item, err := rd.Next(); err != nil || len(item) != 2 {
		t.Errorf("Next at a boundary: %v", err)
	}
}

// TestUnmarshalBinary: the inverse of MarshalBinary, refusing what NewReader refuses and bytes after
// the header.
func TestUnmarshalBinary(t *testing.T) {
	h := Header{Float32, []int{60000, 28, 28}}
	b, _ := h.MarshalBinary()
	var got Header
	if err := got.UnmarshalBinary(b); err != nil || got.String() != h.String() {
		t.Fatalf("%s: %v", got, err)
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"short":    {b[:6], ErrTruncatedHeader},
		"magic":    {[]byte{1, 0, 8, 0}, ErrBadMagic},
		"type":     {rawHeader(0x42, 1), ErrUnknownType},
		"trailing": {append(bytes.Clone(b), 0), ErrInvalidHeader},
		"overflow": {rawHeader(byte(Float64), 1<<32-1, 1<<32-1, 1<<32-1), ErrOverflow},
	} {
		if err := got.UnmarshalBinary(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
