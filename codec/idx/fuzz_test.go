package idx

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader. It must never panic, must
// fail with exactly one sentinel or succeed with data matching its header,
// must agree with the streaming API, and a parsed raw file must encode
// back to the same bytes.
func FuzzReader(f *testing.F) {
	small := cat(rawHeader(0x08, 3, 4), randomData(12, 1))
	seeds := [][]byte{
		small,
		gz(f, small),
		encode(f, Header{Float64, []int{2, 1, 2}}, randomData(32, 2)),
		encode(f, Header{Int16, nil}, []byte{1, 2}),
		encode(f, Header{Sbyte, []int{5, 0}}, nil),
		encode(f, Header{Int32, []int{2, 2}}, randomData(16, 3), WriteGzip()),
		small[:len(small)-3],            // truncated data
		small[:6],                       // truncated header
		cat(small, []byte{0}),           // trailing byte
		{1, 0, 8, 1, 0, 0, 0, 1, 0},     // bad magic
		rawHeader(0x0A, 1),              // unknown type
		rawHeader(0x08, 1<<31, 28, 28),  // too large
		gz(f, small)[:20],               // truncated gzip
		cat(gz(f, small), []byte("xx")), // junk after gzip
		{0x1f, 0x8b},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// A small limit keeps every iteration cheap.
		const limit = 1 << 16
		h, data, err := ReadAll(bytes.NewReader(in), MaxDataSize(limit))
		if err != nil {
			if h != nil || data != nil {
				t.Fatal("result with an error")
			}
			if m := matching(err); len(m) != 1 {
				t.Fatalf("error %q matches sentinels %v, want exactly one", err, m)
			}
			return
		}
		if err := h.Validate(); err != nil || int64(len(data)) != h.DataSize() || h.DataSize() > limit {
			t.Fatalf("header %s (%v) with %d bytes of data", h, err, len(data))
		}
		_ = h.String()

		// Streaming gives the same bytes and ends in io.EOF. Skip headers
		// promising millions of empty items.
		if h.NumItems() <= 1<<16 {
			rd, err := NewReader(bytes.NewReader(in), MaxDataSize(limit))
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for {
				item, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("Next: %v", err)
				}
				got = append(got, item...)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("streamed data differs")
			}
		}

		// Writing back reproduces a raw input exactly, and a gzip input's
		// content.
		out := encode(t, *h, data)
		if rd, _ := NewReader(bytes.NewReader(in)); rd.Gzipped() {
			h2, data2, err := ReadAll(bytes.NewReader(encode(t, *h, data, WriteGzip())))
			if err != nil || h2.String() != h.String() || !bytes.Equal(data2, data) {
				t.Fatalf("gzip round trip: %v", err)
			}
		} else if !bytes.Equal(out, in) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", in, out)
		}
	})
}
