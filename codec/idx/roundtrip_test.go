package idx

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// shapes are the dimensions round-tripped for every type: ranks 0 to 4,
// including zero items and zero-byte items.
var shapes = [][]int{
	nil, {5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}, {0, 7}, {4, 0},
}

func TestRoundTrip(t *testing.T) {
	for _, typ := range Types() {
		for si, dims := range shapes {
			h := Header{typ, dims}
			data := randomData(h.DataSize(), uint64(si))
			for _, gzipped := range []bool{false, true} {
				var opts []Option
				if gzipped {
					opts = append(opts, WriteGzip())
				}
				file := encode(t, h, data, opts...)
				if isGz := len(file) > 1 && file[0] == 0x1f && file[1] == 0x8b; isGz != gzipped {
					t.Fatalf("%s gzip=%v: output starts % x", h, gzipped, file[:2])
				}
				gh, got, err := ReadAll(bytes.NewReader(file))
				if err != nil {
					t.Fatalf("%s gzip=%v: ReadAll: %v", h, gzipped, err)
				}
				if gh.String() != h.String() || !bytes.Equal(got, data) {
					t.Fatalf("%s gzip=%v: got %s, %d bytes, data equal %v", h, gzipped, gh, len(got), bytes.Equal(got, data))
				}
				checkStream(t, file, h, data, gzipped)
			}
		}
	}
}

// checkStream reads file item by item with Next and with ReadItem and
// compares with data.
func checkStream(t *testing.T, file []byte, h Header, data []byte, gzipped bool) {
	t.Helper()
	n, size := h.NumItems(), h.ItemSize()
	rd, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if rd.Gzipped() != gzipped {
		t.Errorf("%s: Gzipped() = %v", h, rd.Gzipped())
	}
	for i := range n {
		item, err := rd.Next()
		if err != nil {
			t.Fatalf("%s: Next item %d: %v", h, i, err)
		}
		if !bytes.Equal(item, data[i*size:(i+1)*size]) {
			t.Fatalf("%s: item %d differs", h, i)
		}
	}
	for range 2 { // io.EOF, and it stays io.EOF
		if _, err := rd.Next(); err != io.EOF {
			t.Fatalf("%s: after last item Next = %v, want io.EOF", h, err)
		}
	}
	rd.Close()

	rd, err = NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, size)
	for i := range n {
		if err := rd.ReadItem(buf); err != nil {
			t.Fatalf("%s: ReadItem %d: %v", h, i, err)
		}
		if !bytes.Equal(buf, data[i*size:(i+1)*size]) {
			t.Fatalf("%s: item %d differs", h, i)
		}
	}
	if err := rd.ReadItem(buf); err != io.EOF {
		t.Fatalf("%s: after last item ReadItem = %v, want io.EOF", h, err)
	}
	if err := rd.ReadItem(make([]byte, size+1)); !errors.Is(err, ErrItemSize) {
		t.Errorf("%s: ReadItem with a wrong-size buffer: %v", h, err)
	}
}

// TestRawBytes pins the exact encoding: header then big-endian data as is.
func TestRawBytes(t *testing.T) {
	h := Header{Int16, []int{2, 1}}
	got := encode(t, h, []byte{0x12, 0x34, 0xAB, 0xCD})
	want := []byte{0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0x12, 0x34, 0xAB, 0xCD}
	if !bytes.Equal(got, want) {
		t.Errorf("got % x, want % x", got, want)
	}
}

func TestReadUbyte(t *testing.T) {
	h, data, err := ReadUbyte(bytes.NewReader(encode(t, Header{Ubyte, []int{3}}, []byte{7, 8, 9})))
	if err != nil || h.String() != "3 ubyte" || !bytes.Equal(data, []byte{7, 8, 9}) {
		t.Errorf("ReadUbyte = %v, %v, %v", h, data, err)
	}
	_, _, err = ReadUbyte(bytes.NewReader(encode(t, Header{Sbyte, []int{3}}, []byte{7, 8, 9})))
	if !errors.Is(err, ErrWrongType) {
		t.Errorf("ReadUbyte of sbyte: %v, want ErrWrongType", err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	h := Header{Ubyte, []int{4, 2, 2}}
	data := randomData(h.DataSize(), 3)
	for _, name := range []string{"plain.idx", "compressed.idx" /* gzip despite the name */} {
		path := filepath.Join(dir, name)
		if err := WriteFile(path, h, data, name == "compressed.idx"); err != nil {
			t.Fatal(err)
		}
		gh, got, err := ReadUbyteFile(path)
		if err != nil || gh.String() != h.String() || !bytes.Equal(got, data) {
			t.Fatalf("%s: ReadUbyteFile = %v, %d bytes, %v", name, gh, len(got), err)
		}
		if _, _, err := ReadFile(path); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v", name, fi.Mode(), err)
		}
		rd, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if rd.Gzipped() != (name == "compressed.idx") {
			t.Errorf("%s: Gzipped() = %v", name, rd.Gzipped())
		}
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := rd.Next(); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	}
	// Replacing works and leaves no temp files.
	if err := WriteFile(filepath.Join(dir, "plain.idx"), h, data, false); err != nil {
		t.Fatal(err)
	}
	// A failing write (wrong data size) leaves nothing behind either.
	if err := WriteFile(filepath.Join(dir, "bad.idx"), h, data[1:], false); !errors.Is(err, ErrDataSize) {
		t.Errorf("WriteFile with short data: %v", err)
	}
	// Nor does one whose rename fails (the target is a non-empty folder).
	blocker := filepath.Join(dir, "blocker")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(blocker, h, data, false); err == nil {
		t.Error("WriteFile over a folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 3 || names[0] != "blocker" || names[1] != "compressed.idx" || names[2] != "plain.idx" {
		t.Errorf("folder holds %v, want blocker, compressed.idx, plain.idx", names)
	}
	// Errors from Open and ReadFile name the file.
	missing := filepath.Join(dir, "missing.idx")
	if _, _, err := ReadFile(missing); !errors.Is(err, os.ErrNotExist) || !bytes.Contains([]byte(err.Error()), []byte(missing)) {
		t.Errorf("ReadFile(missing) = %v", err)
	}
	bad := filepath.Join(dir, "bad-magic.idx")
	os.WriteFile(bad, []byte("PK\x03\x04"), 0o644)
	if _, _, err := ReadFile(bad); !errors.Is(err, ErrBadMagic) || !bytes.Contains([]byte(err.Error()), []byte(bad)) {
		t.Errorf("ReadFile(bad magic) = %v", err)
	}
}
