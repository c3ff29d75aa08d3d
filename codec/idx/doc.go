// Package idx reads and writes IDX files, the format MNIST is distributed in.
//
// # Format
//
// An IDX file is a small header followed by a dense, row-major array:
//
//	offset  size     meaning
//	0       2        zero bytes 0x00 0x00
//	2       1        element type code (see [Type])
//	3       1        rank: the number of dimensions, 0..255
//	4       4*rank   the dimensions, each a big-endian uint32
//	...     data     product(dims) elements, each big-endian
//
// The first dimension counts items: MNIST's train-images file is
// 60000 × 28 × 28 ubyte, i.e. 60000 items (images) of 28×28 bytes each, and
// its labels file is 60000 ubyte, i.e. 60000 one-byte items. Data is handed
// out as raw big-endian bytes; for ubyte and sbyte that is simply one byte
// per element.
//
// Choices this package makes where the format is silent:
//   - Rank 0 is accepted: it is a scalar, one item of one element.
//   - A zero dimension is accepted: the file has no data. A zero first
//     dimension means zero items; a zero later dimension means items of zero
//     bytes (so streaming yields that many empty items).
//
// # Guarantees
//
// Reading ([NewReader], [Open], [ReadAll], [ReadFile], [ReadUbyte]; a [Reader] hands out items
// with Next or ReadItem, or streams the data as an io.Reader with Read):
//   - Gzip is detected by content (the 0x1f 0x8b magic), never by file
//     name, and decompressed transparently; the gzip CRC is checked because
//     the stream is always read to its end. Multi-member gzip (cat a.gz
//     b.gz) reads as the concatenation, as with gunzip.
//   - The header is validated completely before anything is allocated from
//     it: magic, type code, header length, dimension product overflow and
//     the [MaxDataSize] limit (default [DefaultMaxDataSize], 1 GiB).
//   - Even within the limit, buffers grow with the data actually read, so a
//     header that promises more than the stream holds costs memory
//     proportional to the real stream, not to the promise.
//   - Every failure is one error that matches exactly one of the exported
//     sentinels below with [errors.Is] (or is the underlying reader's own
//     I/O error, passed through), wrapped with context such as the item
//     where data ran out.
//   - Truncated data is reported at the item where it happens; bytes after
//     the promised data, or non-gzip bytes after a gzip stream, are an
//     error ([ErrTrailingData]), reported by ReadAll and by the streaming
//     calls after the last item.
//
// Writing ([NewWriter] then [Writer.Write] per item, [WriteAll],
// [WriteFile]) checks that exactly the promised data is written, optionally gzip-compresses it, and WriteFile
// replaces its target atomically (temp file, fsync, rename).
package idx
