package idx

import "errors"

// Sentinel errors. Every error returned by this package matches one of them
// with errors.Is, except I/O errors of the caller's own reader or writer,
// which are passed through unchanged so that callers can match those.
var (
	// ErrBadMagic: the first two bytes are not zero, so this is not IDX.
	ErrBadMagic = errors.New("idx: bad magic")
	// ErrUnknownType: the type code is not one of the six IDX types.
	ErrUnknownType = errors.New("idx: unknown element type")
	// ErrTruncatedHeader: the stream ends inside the header.
	ErrTruncatedHeader = errors.New("idx: truncated header")
	// ErrTruncatedData: the stream ends before the data the header promises.
	ErrTruncatedData = errors.New("idx: truncated data")
	// ErrTrailingData: there are bytes after the data the header promises.
	ErrTrailingData = errors.New("idx: trailing data")
	// ErrOverflow: the dimensions multiply to a size no int64 can hold.
	ErrOverflow = errors.New("idx: dimension product overflows")
	// ErrTooLarge: the header promises more data than MaxDataSize allows.
	ErrTooLarge = errors.New("idx: data too large")
	// ErrGzip: the input starts like gzip but the gzip stream is corrupt
	// (bad header, bad deflate data, bad CRC or length, or cut short after
	// the IDX data).
	ErrGzip = errors.New("idx: corrupt gzip stream")
	// ErrInvalidHeader: a Header value cannot be encoded (rank above 255,
	// a dimension negative or above 2^32-1).
	ErrInvalidHeader = errors.New("idx: invalid header")
	// ErrWrongType: a typed helper such as ReadUbyte met another type.
	ErrWrongType = errors.New("idx: wrong element type")
	// ErrItemSize: a buffer or item does not have the header's item size.
	ErrItemSize = errors.New("idx: wrong item size")
	// ErrDataSize: a data slice does not have the header's data size.
	ErrDataSize = errors.New("idx: wrong data size")
	// ErrItemCount: a Writer got more items than the header promises, or
	// was closed with fewer.
	ErrItemCount = errors.New("idx: wrong item count")
	// ErrClosed: a Reader or Writer was used after Close.
	ErrClosed = errors.New("idx: closed")
)
