package idx

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestWriterItems(t *testing.T) {
	h := Header{Int16, []int{3, 2}}
	data := randomData(h.DataSize(), 4)
	for _, opts := range [][]Option{nil, {WriteGzip()}} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, h, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(data[:3]); !errors.Is(err, ErrItemSize) {
			t.Errorf("short item: %v", err)
		}
		for i := range 3 {
			if err := w.Write(data[4*i : 4*i+4]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(data[:4]); !errors.Is(err, ErrItemCount) {
			t.Errorf("fourth item: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(data[:4]); !errors.Is(err, ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
		if !bytes.Equal(buf.Bytes(), encode(t, h, data, opts...)) {
			t.Error("item by item differs from WriteAll")
		}
	}
}

func TestWriterTooFew(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Ubyte, []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{1})
	if err := w.Close(); !errors.Is(err, ErrItemCount) || err.Error() != "idx: wrong item count: wrote 1 of the 3 items of 3 ubyte" {
		t.Errorf("Close = %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, Header{Type(7), []int{1}}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("bad type: %v", err)
	}
	if err := WriteAll(io.Discard, Header{Ubyte, []int{2}}, []byte{1}); !errors.Is(err, ErrDataSize) {
		t.Errorf("short data: %v", err)
	}
	// The underlying writer's error comes back as is, and sticks.
	boom := errors.New("disk full")
	w, err := NewWriter(failWriter{boom}, Header{Ubyte, []int{1 << 17}})
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		err = w.Write([]byte{0}) // fails once the 64 KiB buffer flushes
	}
	if err != boom || w.Close() != boom {
		t.Errorf("got %v, want %v", err, boom)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
