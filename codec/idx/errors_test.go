package idx

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
)

// tooLargeMsg is what refusing 2^31 × 28 × 28 says; where int is 32 bits
// the first dimension alone is already too large.
var tooLargeMsg = map[bool]string{
	true:  "2147483648 × 28 × 28 ubyte claims 1683627180032 bytes, limit is 1073741824",
	false: "dimension 0 is 2147483648",
}[strconv.IntSize == 64]

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestReadErrors checks that each malformed input gives exactly the
// expected sentinel, from ReadAll and from streaming.
func TestReadErrors(t *testing.T) {
	small := cat(rawHeader(0x08, 3, 4), randomData(12, 1)) // 3 items of 4 bytes
	smallGz := gz(t, small)
	badCRC := bytes.Clone(smallGz)
	badCRC[len(badCRC)-8] ^= 0xFF // first byte of the CRC-32 trailer
	badLen := bytes.Clone(smallGz)
	badLen[len(badLen)-1] ^= 0xFF // last byte of the ISIZE trailer
	badDeflate := bytes.Clone(smallGz)
	badDeflate[10] = 0xFF // first deflate byte: 0xFF has the reserved block type 3

	for _, tc := range []struct {
		name string
		in   []byte
		want error
		msg  string // a substring the message must have
	}{
		{"empty", nil, ErrTruncatedHeader, "0 of 4"},
		{"one zero byte", []byte{0}, ErrTruncatedHeader, "1 of 4"},
		{"one other byte", []byte{'P'}, ErrBadMagic, "50"},
		{"zip file", []byte("PK\x03\x04 more"), ErrBadMagic, "50 4b"},
		{"second byte", []byte{0, 1, 8, 1, 0, 0, 0, 0}, ErrBadMagic, "00 01"},
		{"unknown type", rawHeader(0x0A, 1), ErrUnknownType, "0x0a"},
		{"type zero", rawHeader(0x00, 1), ErrUnknownType, "0x00"},
		{"cut in dims", rawHeader(0x08, 3, 4)[:9], ErrTruncatedHeader, "rank 2 needs 8 dimension bytes, got 5"},
		{"cut in data", small[:len(small)-5], ErrTruncatedData, "item 1 of 3 (3 of its 4 bytes present)"},
		{"cut at item", small[:len(small)-4], ErrTruncatedData, "item 2 of 3 (0 of its 4 bytes present)"},
		{"no data", rawHeader(0x08, 3, 4), ErrTruncatedData, "item 0 of 3"},
		{"trailing byte", cat(small, []byte{0}), ErrTrailingData, "offset 24"},
		{"overflow", rawHeader(0x0E, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF), ErrOverflow, "item size of 2147483647 × 2147483647 × 2147483647 float64"},
		{"too large", rawHeader(0x08, 1<<31, 28, 28), ErrTooLarge, tooLargeMsg},
		{"gzip: header only", []byte{0x1f, 0x8b}, ErrGzip, "ends early"},
		{"gzip: bad header", []byte{0x1f, 0x8b, 0x99, 0, 0, 0, 0, 0, 0, 0}, ErrGzip, ""},
		{"gzip: bad CRC", badCRC, ErrGzip, "checksum"},
		{"gzip: bad length", badLen, ErrGzip, ""},
		{"gzip: bad deflate", badDeflate, ErrGzip, ""},
		{"gzip: trailer cut", smallGz[:len(smallGz)-3], ErrGzip, "ends early"},
		{"gzip: junk after", cat(smallGz, []byte("junk")), ErrTrailingData, "non-gzip bytes follow"},
		{"gzip: long junk after", cat(smallGz, make([]byte, 100)), ErrTrailingData, "non-gzip bytes follow"},
		{"gzip: one byte after", cat(smallGz, []byte{0x1f}), ErrTrailingData, "non-gzip bytes follow"},
		{"gzip: bad second member", cat(smallGz, []byte{0x1f, 0x8b, 0x99, 0, 0, 0, 0, 0, 0, 0}), ErrGzip, ""},
		{"gzip: empty second member cut", cat(smallGz, gz(t, nil)[:12]), ErrGzip, "ends early"},
		{"gzip: data cut, junk after", cat(gz(t, small[:14]), []byte("junk")), ErrTruncatedData, "item 0 of 3 (2 of its 4 bytes present) of 3 × 4 ubyte, and non-gzip bytes follow"},
		{"gzip: data cut", gz(t, small[:len(small)-5]), ErrTruncatedData, "item 1 of 3"},
		{"gzip: trailing data", gz(t, cat(small, []byte{1})), ErrTrailingData, ""},
		{"gzip: bad magic", gz(t, []byte{1, 2, 3, 4}), ErrBadMagic, ""},
		{"gzip: too large", gz(t, rawHeader(0x08, 1<<31, 28, 28)), ErrTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, data, err := ReadAll(bytes.NewReader(tc.in))
			checkErr(t, "ReadAll", err, tc.want, tc.msg)
			if data != nil {
				t.Errorf("ReadAll returned data with an error")
			}
			// Streaming meets the same error: at NewReader for header
			// problems, else at some Next.
			rd, err := NewReader(bytes.NewReader(tc.in))
			for err == nil {
				_, err = rd.Next()
			}
			if err == io.EOF {
				t.Fatalf("streaming reached io.EOF, want %v", tc.want)
			}
			checkErr(t, "streaming", err, tc.want, tc.msg)
			if rd != nil {
				if _, again := rd.Next(); again != err {
					t.Errorf("error is not sticky: %v then %v", err, again)
				}
			}
		})
	}
}

func checkErr(t *testing.T, what string, err, want error, msg string) {
	t.Helper()
	if m := matching(err); len(m) != 1 || m[0] != want {
		t.Errorf("%s: error %q matches %v, want only %v", what, err, m, want)
	}
	if err != nil && !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: error %q lacks %q", what, err, msg)
	}
}

// TestTruncatedStreaming checks truncation is reported at the item where
// it happens, after the complete items were handed out.
func TestTruncatedStreaming(t *testing.T) {
	file := cat(rawHeader(0x08, 5, 2), []byte{1, 2, 3, 4, 5})
	rd, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := rd.Next(); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	_, err = rd.Next()
	checkErr(t, "Next", err, ErrTruncatedData, "item 2 of 5 (1 of its 2 bytes present)")
}

// TestSourceErrors checks the caller's own I/O errors come back as they
// are, not disguised as truncation or gzip corruption.
func TestSourceErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	small := cat(rawHeader(0x08, 3, 4), randomData(12, 1))
	for name, in := range map[string][]byte{"raw": small, "gzip": gz(t, small)} {
		for cut := range len(in) {
			r := io.MultiReader(bytes.NewReader(in[:cut]), iotest.ErrReader(boom))
			_, _, err := ReadAll(r)
			if !errors.Is(err, boom) || len(matching(err)) != 0 {
				t.Fatalf("%s cut at %d: %v, want only %v", name, cut, err, boom)
			}
		}
	}
}

// TestGzipMembers checks a multi-member gzip file (cat a.gz b.gz) reads
// as the concatenation, as gunzip would have it, even when a member
// boundary falls inside an item.
func TestGzipMembers(t *testing.T) {
	h := Header{Ubyte, []int{3, 4}}
	data := randomData(h.DataSize(), 5)
	file := cat(rawHeader(0x08, 3, 4), data)
	multi := cat(gz(t, file[:7]), gz(t, nil), gz(t, file[7:18]), gz(t, file[18:]))
	_, got, err := ReadAll(bytes.NewReader(multi))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("got %d bytes, %v", len(got), err)
	}
	checkStream(t, multi, h, data, true)
}

// TestOneByteReads checks nothing depends on reads returning much.
func TestOneByteReads(t *testing.T) {
	h := Header{Int32, []int{3, 2}}
	data := randomData(h.DataSize(), 9)
	for _, opts := range [][]Option{nil, {WriteGzip()}} {
		file := encode(t, h, data, opts...)
		_, got, err := ReadAll(iotest.OneByteReader(iotest.HalfReader(bytes.NewReader(file))))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("got %d bytes, %v", len(got), err)
		}
	}
}

func TestMaxDataSizeOption(t *testing.T) {
	file := encode(t, Header{Ubyte, []int{10, 10}}, make([]byte, 100))
	if _, _, err := ReadAll(bytes.NewReader(file), MaxDataSize(99)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("limit 99: %v", err)
	}
	if _, _, err := ReadAll(bytes.NewReader(file), MaxDataSize(100)); err != nil {
		t.Errorf("limit 100: %v", err)
	}
	if _, _, err := ReadAll(bytes.NewReader(file), MaxDataSize(-1)); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

// TestGzipCRCIsChecked makes sure a CRC error surfaces from the decoder's
// own sentinel too, since callers may know gzip.ErrChecksum.
func TestGzipCRCIsChecked(t *testing.T) {
	file := encode(t, Header{Ubyte, []int{2}}, []byte{1, 2}, WriteGzip())
	file[len(file)-5] ^= 1
	_, _, err := ReadAll(bytes.NewReader(file))
	if !errors.Is(err, ErrGzip) || !errors.Is(err, gzip.ErrChecksum) {
		t.Errorf("got %v", err)
	}
}
