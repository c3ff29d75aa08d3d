package idx

import (
	"fmt"
	"io"
)

// ReadAll reads a whole IDX stream (gzip-compressed or not) and returns its
// header and raw big-endian data, after checking that the data is complete
// and nothing follows it. Options: MaxDataSize.
func ReadAll(r io.Reader, opts ...Option) (*Header, []byte, error) {
	rd, err := NewReader(r, opts...)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	return rd.all()
}

// ReadFile is ReadAll on the file at path; errors name the file.
func ReadFile(path string, opts ...Option) (*Header, []byte, error) {
	rd, err := Open(path, opts...)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	return rd.all()
}

// ReadUbyte is ReadAll for ubyte files, such as MNIST's images and labels.
// Any other element type is ErrWrongType, reported before the data is read.
func ReadUbyte(r io.Reader, opts ...Option) (*Header, []uint8, error) {
	rd, err := NewReader(r, opts...)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	if rd.h.Type != Ubyte {
		return nil, nil, fmt.Errorf("%w: got %s, want ubyte", ErrWrongType, rd.h)
	}
	return rd.all()
}

// ReadUbyteFile is ReadUbyte on the file at path; errors name the file.
func ReadUbyteFile(path string, opts ...Option) (*Header, []uint8, error) {
	rd, err := Open(path, opts...)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	if rd.h.Type != Ubyte {
		return nil, nil, rd.wrap(fmt.Errorf("%w: got %s, want ubyte", ErrWrongType, rd.h))
	}
	return rd.all()
}

func (rd *Reader) all() (*Header, []byte, error) {
	data, err := rd.readAll()
	if err != nil {
		return nil, nil, err
	}
	h := rd.Header()
	return &h, data, nil
}
