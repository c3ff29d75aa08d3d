package idx

import (
	"bufio"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Writer writes one IDX file: the header at once, then exactly the number
// of items the header promises. Close checks the count.
type Writer struct {
	h        Header
	itemSize int
	numItems int
	written  int // items written so far

	bw  *bufio.Writer // batches small items (one-byte labels) into big writes
	gz  *gzip.Writer  // set with WriteGzip
	out io.Writer     // gz or bw
	err error         // sticky
}

// NewWriter validates h and writes it to w. Options: WriteGzip. The caller
// must Close the Writer to flush it; Close does not close w.
func NewWriter(w io.Writer, h Header, opts ...Option) (*Writer, error) {
	cfg := newConfig(opts)
	hdr, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	wr := &Writer{h: h.clone(), itemSize: h.ItemSize(), numItems: h.NumItems()}
	wr.bw = bufio.NewWriterSize(w, bufSize)
	wr.out = wr.bw
	if cfg.gzip {
		wr.gz = gzip.NewWriter(wr.bw)
		wr.out = wr.gz
	}
	if _, err := wr.out.Write(hdr); err != nil {
		return nil, err
	}
	return wr, nil
}

// Header returns the header being written.
func (wr *Writer) Header() Header { return wr.h.clone() }

// Write writes one item: its raw big-endian bytes, exactly ItemSize of
// them. (Unlike io.Writer it takes whole items only.)
func (wr *Writer) Write(item []byte) error {
	if wr.err != nil {
		return wr.err
	}
	if len(item) != wr.itemSize {
		return fmt.Errorf("%w: item has %d bytes, items of %s have %d", ErrItemSize, len(item), wr.h, wr.itemSize)
	}
	if wr.written >= wr.numItems {
		return fmt.Errorf("%w: %s has only %d items", ErrItemCount, wr.h, wr.numItems)
	}
	if _, err := wr.out.Write(item); err != nil {
		wr.err = err
		return err
	}
	wr.written++
	return nil
}

// writeData writes all the items at once from data, which must be exactly
// DataSize bytes. It also covers items of zero bytes, which Write would
// need one call each for.
func (wr *Writer) writeData(data []byte) error {
	if wr.err != nil {
		return wr.err
	}
	if want := int64(wr.numItems-wr.written) * int64(wr.itemSize); int64(len(data)) != want {
		return fmt.Errorf("%w: data has %d bytes, %s needs %d", ErrDataSize, len(data), wr.h, want)
	}
	if _, err := wr.out.Write(data); err != nil {
		wr.err = err
		return err
	}
	wr.written = wr.numItems
	return nil
}

// Close flushes everything (finishing the gzip stream if any) and reports
// ErrItemCount if fewer items were written than the header promises. It
// does not close the underlying writer.
func (wr *Writer) Close() error {
	if wr.err != nil {
		return wr.err
	}
	wr.err = fmt.Errorf("%w: write after Close", ErrClosed)
	if wr.gz != nil {
		if err := wr.gz.Close(); err != nil {
			return err
		}
	}
	if err := wr.bw.Flush(); err != nil {
		return err
	}
	if wr.written != wr.numItems {
		return fmt.Errorf("%w: wrote %d of the %d items of %s", ErrItemCount, wr.written, wr.numItems, wr.h)
	}
	return nil
}

// WriteAll writes a whole IDX stream: header h then data, which must be
// exactly h.DataSize() bytes. Options: WriteGzip.
func WriteAll(w io.Writer, h Header, data []byte, opts ...Option) error {
	if err := h.Validate(); err != nil {
		return err
	}
	// Check the size before writing anything, so a mistake leaves w untouched.
	if int64(len(data)) != h.DataSize() {
		return fmt.Errorf("%w: data has %d bytes, %s needs %d", ErrDataSize, len(data), h, h.DataSize())
	}
	wr, err := NewWriter(w, h, opts...)
	if err != nil {
		return err
	}
	if err := wr.writeData(data); err != nil {
		return err
	}
	return wr.Close()
}
