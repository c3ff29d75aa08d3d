package weights

import "errors"

// Sentinel errors. Decode, Encode and the GoMLX bridge wrap them with context
// (fmt.Errorf("...: %w", ...)), so test them with errors.Is.
var (
	// ErrTooShort: fewer than the 8 bytes of the header length.
	ErrTooShort = errors.New("weights file too short: missing header length")
	// ErrHeaderTooLarge: declared header length above MaxHeaderSize.
	ErrHeaderTooLarge = errors.New("weights file header too large")
	// ErrTruncated: declared header length runs past the end of the file.
	ErrTruncated = errors.New("weights file truncated")
	// ErrInvalidHeader: the header is not the expected JSON.
	ErrInvalidHeader = errors.New("weights file header is not valid")
	// ErrUnknownDType: a dtype this package does not handle.
	ErrUnknownDType = errors.New("unknown tensor dtype")
	// ErrNegativeDim: a tensor shape with a negative dimension.
	ErrNegativeDim = errors.New("negative tensor dimension")
	// ErrShapeMismatch: data size differs from shape × dtype size (or from an
	// existing GoMLX variable's shape).
	ErrShapeMismatch = errors.New("tensor shape does not match its data")
	// ErrBadOffsets: data offsets out of range, overlapping, or leaving gaps.
	ErrBadOffsets = errors.New("invalid tensor data offsets")
	// ErrInvalidName: empty, reserved, duplicated or non-UTF-8 tensor name.
	ErrInvalidName = errors.New("invalid tensor name")
	// ErrNotWeightsFile: missing or wrong "format" marker (e.g. a plain
	// safetensors file from elsewhere).
	ErrNotWeightsFile = errors.New("not an mnistzip weights file")
	// ErrUnsupportedVersion: a format_version this code does not read.
	ErrUnsupportedVersion = errors.New("unsupported weights format version")
	// ErrInvalidManifest: manifest missing, not JSON, or not encodable.
	ErrInvalidManifest = errors.New("invalid weights manifest")
	// ErrChecksum: stored checksum missing or different from the contents.
	ErrChecksum = errors.New("weights file is corrupted: checksum mismatch")
	// ErrUnsupportedDType: a GoMLX dtype with no safetensors equivalent here.
	ErrUnsupportedDType = errors.New("unsupported GoMLX dtype")
)
