// Package mz is the .mz container of mnistzip: an IDX file compressed in independent chunks, each
// coded by whichever coder makes it smallest — the pixel context models (package pixels) for 28×28
// ubyte images, klauspost zstd at its best level and an order-0 entropy coder for everything else —
// with a CRC-32C per chunk and a SHA-256 over the restored file. Lossy files hold only the
// autoencoder's quantized codes of each image. SPEC.md describes the bytes.
//
// The API follows compress/gzip and klauspost's zstd. An Encoder (NewEncoder) compresses an IDX
// stream from an io.Reader to an io.Writer and a Decoder (NewDecoder) restores it; both are made once
// with functional options, which are checked there, and reused for any number of files. NewWriter and
// NewReader are the streaming forms: an io.WriteCloser that takes IDX bytes and an io.Reader that
// yields them. Every error matches one of the Err variables with errors.Is.
//
// A coder that needs a model takes it through the Autoencoder interface; this package imports
// nothing of the models themselves (graphs/evaluate's CodecModel implements it, and the hosts wire
// the two).
//
// # Memory
//
// Encoders and decoders read the IDX or .mz header first and refuse a bad one at once; then they
// read, code and write one batch of chunks at a time, never the whole file, so a header that claims
// terabytes, or an endless stream, costs no more than a file of a few chunks. A chunk holds at most
// 30,000 images (23.5 MB) or 8 MiB of other data, and at most the concurrency's number of chunks are
// in flight (default DefaultConcurrency, at most 4; WithConcurrency up to MaxConcurrency), plus at
// most two zstd encoders of about 50 MB each. Measured with 4 in flight (TestBoundedMemory, peak heap
// in use): compression peaks at 135 MiB for 8 MiB chunks (a 160 KB gzip stream whose header claims
// 65536 × 65536 bytes, coded until its data runs out; default GOGC, garbage included) and, for chunks
// of 30,000 images, at 360–410 MiB of live data (measured with GOGC 10, so that little garbage
// counts); at the default GOGC 100 the heap in use reaches 567–664 MiB there, the garbage depending
// on how busy the machine is (GOMEMLIMIT caps it). Decompression peaks at 92 MiB for image chunks.
// Those figures are LevelFast's; LevelBest also holds at most two context-mixing models at once,
// whatever the concurrency, of 165 MiB each (codec/cm.TableBytes; TestBoundedMemoryCM measures
// 4 chunks at once both ways). With WithAEHints an Encoder may also hold
// up to 64 MiB of coded chunks until one of them uses the model (see SPEC.md).
package mz
