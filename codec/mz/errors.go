package mz

import (
	"errors"
	"fmt"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// Errors. Every error of this package matches one of them with errors.Is, except I/O errors of the
// caller's own readers and writers and the errors of a model loader (WithModelLoader), which are
// passed through unchanged.
var (
	// ErrNotMZ: the input does not start with Magic.
	ErrNotMZ = errors.New("mz: not an mnistzip (.mz) file")
	// ErrVersion: a format version this package does not read.
	ErrVersion = errors.New("mz: unsupported .mz format version")
	// ErrCorrupt: the .mz bytes are not what any encoder writes (a chunk that does not decode,
	// counts that disagree, bytes after the end, a file of no data).
	ErrCorrupt = errors.New("mz: corrupt .mz file")
	// ErrTruncated: the .mz stream ends early.
	ErrTruncated = errors.New("mz: truncated .mz file")
	// ErrChecksum: a CRC-32C or the final SHA-256 does not match.
	ErrChecksum = errors.New("mz: .mz checksum mismatch")
	// ErrNotIDX: the input of an encoder is not a valid IDX stream (it wraps the codec/idx error,
	// which says what is wrong).
	ErrNotIDX = errors.New("mz: the input is not a valid IDX file")
	// ErrEmpty: the IDX input holds no data.
	ErrEmpty = errors.New("mz: nothing to compress")
	// ErrTooLarge: the IDX input needs more chunks than the format counts (2^32 − 1).
	ErrTooLarge = errors.New("mz: too large for the .mz format")
	// ErrNotImages: lossy compression of anything but 28×28 ubyte images.
	ErrNotImages = errors.New("mz: lossy compression needs 28×28 ubyte images")
	// ErrNeedsModel: lossy or hinted coding, or a file that names a model, with no model given.
	ErrNeedsModel = errors.New("mz: this needs an autoencoder")
	// ErrWrongModel: the model given is not the one the file names.
	ErrWrongModel = errors.New("mz: wrong model for this .mz file")
	// ErrModel: the autoencoder failed or returned values of the wrong size.
	ErrModel = errors.New("mz: autoencoder error")
	// ErrOption: an option's value is out of range or options contradict each other.
	ErrOption = errors.New("mz: invalid option")
	// ErrClosed: a Writer or Reader used after Close or Reset, or written past its file's end.
	ErrClosed = errors.New("mz: closed")
	// ErrNotReproduced: a verification found restored bytes that differ from the original (the
	// hosts' --verify reports it; the package itself never does).
	ErrNotReproduced = errors.New("mz: the restored bytes differ from the original")
)

// idxSentinels are the codec/idx errors that describe the stream (not a caller's bug).
var idxSentinels = []error{idx.ErrBadMagic, idx.ErrUnknownType, idx.ErrTruncatedHeader, idx.ErrTruncatedData,
	idx.ErrTrailingData, idx.ErrOverflow, idx.ErrTooLarge, idx.ErrGzip, idx.ErrInvalidHeader}

// inputErr marks an error reading the IDX input as ErrNotIDX; the caller's own I/O errors pass.
func inputErr(err error) error {
	for _, s := range idxSentinels {
		if errors.Is(err, s) {
			return fmt.Errorf("%w: %w", ErrNotIDX, err)
		}
	}
	return err
}

// chunkName names chunk i (0-based) of n as people count, in every message: "chunk 3 of 12".
func chunkName(i, n int64) string { return fmt.Sprintf("chunk %d of %d", i+1, n) }

// modelError marks an error of the Autoencoder inside a coder, so it is reported as ErrModel and not
// as a corrupt file.
type modelError struct{ err error }

func (e modelError) Error() string { return e.err.Error() }
func (e modelError) Unwrap() error { return e.err }

// coderErr turns a coder's failure on chunk i of n into the error to report: ErrModel for the
// model's, ErrCorrupt for everything else when decoding (zstd, the entropy coders, the pixel models:
// the payload passed its CRC, so it is not what an encoder wrote).
func coderErr(err error, name string, i, n int64, decoding bool) error {
	var me modelError
	switch {
	case errors.As(err, &me):
		return fmt.Errorf("%w: %s: %s: %w", ErrModel, chunkName(i, n), name, me.err)
	case decoding:
		return fmt.Errorf("%w: %s: %s: %v", ErrCorrupt, chunkName(i, n), name, err)
	}
	return fmt.Errorf("mz: %s: %s coder: %w", chunkName(i, n), name, err)
}
