package weights

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
)

// File is a decoded weights file: its manifest and tensors. Decode returns
// tensors sorted by name; Encode accepts them in any order.
type File struct {
	Manifest Manifest
	Tensors  []Tensor
}

// Get returns the tensor with the given name.
func (f *File) Get(name string) (*Tensor, bool) {
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// Checksum returns the "sha256:<hex>" checksum Encode would store for f.
func (f *File) Checksum() (string, error) {
	e, err := prepare(f)
	if err != nil {
		return "", err
	}
	return e.checksum, nil
}

// ID returns the model identity: the first 16 hex digits of the checksum.
// It changes with any change to the tensors or the manifest, so a codec that
// records it refuses to decode with any other model. It equals Identity of
// the encoded file.
func (f *File) ID() (string, error) {
	sum, err := f.Checksum()
	if err != nil {
		return "", err
	}
	return idFromChecksum(sum), nil
}

// Read reads a whole weights file from r and decodes it.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading weights: %w", err)
	}
	return Decode(data)
}

// MaxFileBytes bounds what ReadFile reads: the largest file mnistzip writes, a paper-size CapsNet's
// checkpoint with Adam's moments, is about 100 MB; a path to /dev/zero or a huge unrelated file is
// refused after this much instead of filling memory.
var MaxFileBytes int64 = 256 << 20

// ReadFile reads and decodes the weights file at path (at most MaxFileBytes of it).
func ReadFile(path string) (*File, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading weights: %w", err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading weights: %w", err)
	}
	if int64(len(data)) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a weights file mnistzip writes", path, MaxFileBytes>>20)
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes f to path atomically (see codec/atomicfile): a temporary file in the same folder,
// synced and renamed over path, so readers (and a crash or signal mid-write) see either the old file
// or the complete new one. A character device or FIFO is written directly; a folder is refused.
func WriteFile(path string, f *File) error {
	// Validate before creating anything on disk.
	e, err := prepare(f)
	if err != nil {
		return fmt.Errorf("encoding weights: %w", err)
	}
	a, err := atomicfile.Create(path, atomicfile.Overwrite(true), atomicfile.Perm(0o644))
	if err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	defer a.Abort()
	w := bufio.NewWriterSize(a, 1<<20)
	if err := e.writeTo(w); err != nil {
		return err // "writing weights: write PATH: ..."
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	if err := a.Commit(); err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	return nil
}

// LooksLike reports whether head (the first bytes of a file, at least 9) starts like a safetensors
// file: a little-endian header length within limits followed by '{'. Hosts use it to tell weights
// from IDX or .mz files by content.
func LooksLike(head []byte) bool {
	if len(head) < 9 {
		return false
	}
	n := le.Uint64(head[:8])
	return n >= 2 && n <= MaxHeaderSize && head[8] == '{'
}

// NumParams returns the number of elements over all tensors.
func (f *File) NumParams() int {
	total := 0
	for i := range f.Tensors {
		if n, err := f.Tensors[i].NumElements(); err == nil {
			total += n
		}
	}
	return total
}
