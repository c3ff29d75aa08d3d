package idx

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// bufSize is the read buffer in front of the caller's reader; it makes the
// many one-byte reads of a labels file cheap.
const bufSize = 64 << 10

// Reader streams the items of one IDX file. Its header has been fully
// validated by the time NewReader or Open returns it.
type Reader struct {
	h        Header
	itemSize int
	numItems int
	next     int // items handed out so far
	partial  int // bytes of item next already handed out by Read

	src     io.Reader    // decompressed stream, positioned after what was read
	gz      *gzipMembers // set when the input is gzip
	gzipped bool
	name    string    // file name for error context; empty for NewReader
	file    io.Closer // set by Open
	buf     []byte    // reused by Next
	err     error     // sticky: the first error, or io.EOF at the end
}

// NewReader reads and validates the header of an IDX stream, gzip-compressed
// or not, and returns a Reader positioned at the first item. Options:
// MaxDataSize.
func NewReader(r io.Reader, opts ...Option) (*Reader, error) {
	return newReader(r, "", opts)
}

// Open opens the IDX file at path (gzip-compressed or not, whatever its
// name). Close the Reader to close the file. Errors name the file.
func Open(path string, opts ...Option) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	rd, err := newReader(f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.file = f
	return rd, nil
}

func newReader(r io.Reader, name string, opts []Option) (*Reader, error) {
	cfg := newConfig(opts)
	rd := &Reader{name: name}
	br := bufio.NewReaderSize(sourceReader{r}, bufSize)
	rd.src = br
	// Detect gzip by content: an IDX file starts with 0x00, so the two
	// cannot be confused.
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		rd.gzipped = true
		gz, err := newGzipMembers(br)
		if err != nil {
			return nil, rd.wrap(rd.streamErr(err, nil))
		}
		rd.src = gz
		rd.gz = gz
	} else if err != nil && err != io.EOF {
		return nil, rd.wrap(rd.streamErr(err, ErrTruncatedHeader)) // only the caller's errors get here
	}
	h, err := rd.readHeader(cfg.maxDataSize)
	if err != nil {
		return nil, rd.wrap(err)
	}
	rd.h = h
	rd.numItems = h.NumItems()
	rd.itemSize = h.ItemSize()
	return rd, nil
}

// readHeader parses and validates the header, allocating nothing that
// depends on it beyond the at most 1020 dimension bytes.
func (rd *Reader) readHeader(maxDataSize int64) (Header, error) {
	var magic [4]byte
	n, err := io.ReadFull(rd.src, magic[:])
	// Check the magic on whatever arrived, so a one-byte non-IDX file is
	// called what it is rather than "truncated".
	if got := magic[:min(n, 2)]; (len(got) > 0 && got[0] != 0) || (len(got) > 1 && got[1] != 0) {
		return Header{}, fmt.Errorf("%w: starts with % x, want 00 00", ErrBadMagic, got)
	}
	if err != nil {
		return Header{}, rd.streamErr(err, fmt.Errorf("%w: got %d of 4 magic bytes", ErrTruncatedHeader, n))
	}
	h := Header{Type: Type(magic[2])}
	if !h.Type.Valid() {
		return Header{}, fmt.Errorf("%w: type code 0x%02x", ErrUnknownType, magic[2])
	}
	rank := int(magic[3])
	var dimBytes [4 * MaxRank]byte
	want := 4 * rank
	if n, err := io.ReadFull(rd.src, dimBytes[:want]); err != nil {
		return Header{}, rd.streamErr(err, fmt.Errorf("%w: rank %d needs %d dimension bytes, got %d", ErrTruncatedHeader, rank, want, n))
	}
	h.Dims = make([]int, rank)
	for i := range h.Dims {
		d := uint64(binary.BigEndian.Uint32(dimBytes[4*i:]))
		if d > uint64(maxInt) { // only possible where int is 32 bits
			return Header{}, fmt.Errorf("%w: dimension %d is %d, more than an int holds on this platform", ErrTooLarge, i, d)
		}
		h.Dims[i] = int(d)
	}
	_, total, err := h.sizes()
	if err != nil {
		return Header{}, err
	}
	if total > uint64(maxDataSize) {
		return Header{}, fmt.Errorf("%w: header %s claims %d bytes, limit is %d (see MaxDataSize)", ErrTooLarge, h, total, maxDataSize)
	}
	if total > uint64(maxInt) { // only possible where int is 32 bits
		return Header{}, fmt.Errorf("%w: header %s claims %d bytes, more than a slice can hold here", ErrTooLarge, h, total)
	}
	return h, nil
}

// maxInt is math.MaxInt as a typed constant usable in uint64 comparisons.
const maxInt = int(^uint(0) >> 1)

// Header returns the validated header.
func (rd *Reader) Header() Header { return rd.h.clone() }

// Gzipped reports whether the input was gzip-compressed.
func (rd *Reader) Gzipped() bool { return rd.gzipped }

// Next returns the next item's raw big-endian bytes. The slice is reused
// by the following call; copy it to keep it. After the last item Next
// checks that the stream ends there and returns io.EOF (or ErrTrailingData,
// or a gzip error such as a bad CRC).
func (rd *Reader) Next() ([]byte, error) {
	if rd.err != nil {
		return nil, rd.err
	}
	if err := rd.atItemBoundary(); err != nil {
		return nil, err
	}
	if rd.next >= rd.numItems {
		return nil, rd.finish()
	}
	b, err := readGrow(rd.src, rd.buf, rd.itemSize)
	rd.buf = b
	if err != nil {
		return nil, rd.fail(rd.dataErr(err, len(b)))
	}
	rd.next++
	return b, nil
}

// ReadItem reads the next item into buf, whose length must be ItemSize.
// At the end it behaves like Next.
func (rd *Reader) ReadItem(buf []byte) error {
	if len(buf) != rd.itemSize {
		// A caller bug, not a stream problem: not sticky.
		return fmt.Errorf("%w: buffer has %d bytes, items of %s have %d", ErrItemSize, len(buf), rd.h, rd.itemSize)
	}
	if rd.err != nil {
		return rd.err
	}
	if err := rd.atItemBoundary(); err != nil {
		return err
	}
	if rd.next >= rd.numItems {
		return rd.finish()
	}
	if n, err := io.ReadFull(rd.src, buf); err != nil {
		return rd.fail(rd.dataErr(err, n))
	}
	rd.next++
	return nil
}

// readAll reads all the remaining data and checks the stream ends there.
func (rd *Reader) readAll() ([]byte, error) {
	if rd.err != nil {
		return nil, rd.err
	}
	size := int(rd.h.DataSize()) // fits: readHeader checked it against maxInt
	data, err := readGrow(rd.src, nil, size-rd.next*rd.itemSize-rd.partial)
	if err != nil {
		return nil, rd.fail(rd.dataErr(err, rd.partial+len(data)))
	}
	rd.next, rd.partial = rd.numItems, 0
	if err := rd.finish(); err != io.EOF {
		return nil, err
	}
	return data, nil
}

// Read reads the data as one stream of raw big-endian bytes, without regard to item boundaries, so a
// Reader is an io.Reader of the data (io.Copy streams a file of any size in bounded memory). Once
// all the data the header promises has been read, Read checks that the stream ends there and
// returns io.EOF, or the error that it does not (ErrTrailingData, a gzip error). Next and ReadItem
// may follow a Read only at an item boundary.
func (rd *Reader) Read(p []byte) (int, error) {
	if rd.err != nil {
		return 0, rd.err
	}
	left := rd.h.DataSize() - int64(rd.next)*int64(rd.itemSize) - int64(rd.partial)
	if left == 0 {
		rd.next, rd.partial = rd.numItems, 0
		return 0, rd.finish()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := rd.src.Read(p)
	rd.partial += n
	rd.next += rd.partial / rd.itemSize // itemSize > 0: some data is left
	rd.partial %= rd.itemSize
	if err != nil && (err != io.EOF || int64(n) < left) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, rd.fail(rd.dataErr(err, rd.partial))
	}
	return n, nil
}

// atItemBoundary refuses an item read after a Read that stopped inside an item (a caller bug, not
// a stream problem: not sticky).
func (rd *Reader) atItemBoundary() error {
	if rd.partial != 0 {
		return fmt.Errorf("%w: Read stopped %d bytes into item %d of %s", ErrItemSize, rd.partial, rd.next, rd.h)
	}
	return nil
}

// Close releases the Reader and closes the file if it came from Open. It
// does not close a reader passed to NewReader.
func (rd *Reader) Close() error {
	if rd.err == nil || rd.err == io.EOF {
		rd.err = fmt.Errorf("%w: read after Close", ErrClosed)
	}
	if rd.gz != nil {
		rd.gz.Close() // only returns the decoder's error, already reported
		rd.gz = nil
	}
	if rd.file != nil {
		f := rd.file
		rd.file = nil
		return f.Close()
	}
	return nil
}

// finish checks that the stream ends right after the data. Reading to the
// end is also what makes the gzip reader verify its CRC and length.
func (rd *Reader) finish() error {
	var one [1]byte
	n, err := io.ReadFull(rd.src, one[:])
	switch {
	case n > 0:
		off := int64(rd.h.HeaderSize()) + rd.h.DataSize()
		return rd.fail(fmt.Errorf("%w: stream goes on after the %d items of %s (at offset %d)", ErrTrailingData, rd.numItems, rd.h, off))
	case err == io.EOF:
		rd.err = io.EOF
		return io.EOF
	default:
		return rd.fail(rd.streamErr(err, nil))
	}
}

// dataErr turns a failed data read, after got bytes of the current read,
// into the error to report.
func (rd *Reader) dataErr(err error, got int) error {
	var early error
	if rd.itemSize > 0 { // else there is nothing to read and no read fails
		early = fmt.Errorf("%w: stream ends inside item %d of %d (%d of its %d bytes present) of %s",
			ErrTruncatedData, rd.next+got/rd.itemSize, rd.numItems, got%rd.itemSize, rd.itemSize, rd.h)
	}
	return rd.streamErr(err, early)
}

// streamErr classifies an error from the (decompressed) stream. The
// caller's own I/O errors pass through. The stream ending early is the
// error early (truncation), whether the IDX stream itself or the gzip
// stream around it was cut; early is nil where no IDX bytes are missing
// (gzip framing, the end check), and then a cut is a gzip error. Anything
// else came from the gzip decoder.
func (rd *Reader) streamErr(err error, early error) error {
	var se *sourceError
	if errors.As(err, &se) {
		return se.err
	}
	switch {
	case (err == io.EOF || err == io.ErrUnexpectedEOF) && early != nil:
		return early
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: gzip stream ends early", ErrGzip)
	case err == errJunkAfterGzip && early != nil:
		return fmt.Errorf("%w, and %v", early, err)
	case err == errJunkAfterGzip:
		return fmt.Errorf("%w: %v", ErrTrailingData, err)
	case rd.gzipped:
		return fmt.Errorf("%w: %w", ErrGzip, err)
	}
	return err
}

// fail records err as the Reader's sticky error.
func (rd *Reader) fail(err error) error {
	rd.err = rd.wrap(err)
	return rd.err
}

// wrap adds the file name, if any, for context.
func (rd *Reader) wrap(err error) error {
	if rd.name == "" || err == io.EOF {
		return err
	}
	return fmt.Errorf("read %s: %w", rd.name, err)
}

// readGrow reads exactly n bytes into buf's storage, growing it
// geometrically as data actually arrives. A header may promise up to
// MaxDataSize bytes; growing with the data keeps a short stream with a
// big promise from costing the promised memory.
func readGrow(r io.Reader, buf []byte, n int) ([]byte, error) {
	const firstChunk = 64 << 10
	if cap(buf) >= n {
		m, err := io.ReadFull(r, buf[:n])
		return buf[:m], err
	}
	buf = make([]byte, 0, min(n, max(firstChunk, cap(buf))))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// sourceReader marks errors of the caller's reader so they can be told
// apart from errors the gzip decoder produces.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
