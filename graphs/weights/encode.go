package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const (
	// FormatName is the "format" metadata value of every weights file.
	FormatName = "mnistzip-weights"
	// FormatVersion is the "format_version" this package writes and reads.
	FormatVersion = "1"
	// MaxHeaderSize bounds the JSON header. Decode refuses larger headers
	// before looking at them, so a hostile length cannot make it allocate or
	// parse much; real headers are a few KiB.
	MaxHeaderSize = 16 << 20

	metaFormat   = "format"
	metaVersion  = "format_version"
	metaManifest = "manifest"
	metaChecksum = "checksum"
)

// encoded is a File ready to write: header bytes, then data chunks.
type encoded struct {
	header   []byte // padded JSON header, without the 8-byte length
	chunks   [][]byte
	checksum string
}

// prepare validates f and computes everything Encode writes, so nothing is
// written when f is invalid.
func prepare(f *File) (*encoded, error) {
	if f == nil {
		return nil, errors.New("weights: nil File")
	}
	manifest, err := canonicalManifest(&f.Manifest)
	if err != nil {
		return nil, err
	}
	order := make([]*Tensor, len(f.Tensors))
	for i := range f.Tensors {
		order[i] = &f.Tensors[i]
	}
	// Name order in the header and in the data region: the same model always
	// gives the same bytes.
	slices.SortFunc(order, func(a, b *Tensor) int { return strings.Compare(a.Name, b.Name) })
	entries := make([]entry, len(order))
	chunks := make([][]byte, len(order))
	offset := 0
	for i, t := range order {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		if i > 0 && order[i-1].Name == t.Name {
			return nil, fmt.Errorf("%w: duplicate tensor %q", ErrInvalidName, t.Name)
		}
		entries[i] = entry{name: t.Name, dtype: t.DType, shape: t.Shape, begin: offset, end: offset + len(t.Data)}
		chunks[i] = t.Data
		offset += len(t.Data)
	}
	sum := checksumOf(manifest, entries, chunks)
	header := buildHeader(entries, map[string]string{
		metaFormat:   FormatName,
		metaVersion:  FormatVersion,
		metaManifest: string(manifest),
		metaChecksum: sum,
	})
	if len(header) > MaxHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes (max %d), too many tensors or too large a manifest",
			ErrHeaderTooLarge, len(header), MaxHeaderSize)
	}
	return &encoded{header: header, chunks: chunks, checksum: sum}, nil
}

// buildHeader writes the JSON header by hand (fixed key order, no map
// iteration) and pads it with spaces to a multiple of 8 bytes, as the
// reference implementation does, so the data region starts 8-aligned.
func buildHeader(entries []entry, metadata map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"` + metadataKey + `":{`)
	for i, k := range slices.Sorted(maps.Keys(metadata)) {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		writeJSONString(&b, metadata[k])
	}
	b.WriteByte('}')
	for _, e := range entries {
		b.WriteByte(',')
		writeJSONString(&b, e.name)
		b.WriteString(`:{"dtype":`)
		writeJSONString(&b, string(e.dtype))
		b.WriteString(`,"shape":[`)
		for i, d := range e.shape {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString(`],"data_offsets":[`)
		b.WriteString(strconv.Itoa(e.begin))
		b.WriteByte(',')
		b.WriteString(strconv.Itoa(e.end))
		b.WriteString(`]}`)
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes()
}

// writeJSONString quotes s without HTML escaping, keeping the embedded
// manifest readable. Names were checked to be valid UTF-8; the manifest is
// output of json.Marshal, so nothing is altered.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // cannot fail for a string
	b.Truncate(b.Len() - 1) // Encode appends a newline.
}

// Encode writes f to w in the safetensors layout. It validates everything
// first: on error nothing has been written, except for errors from w itself.
func Encode(w io.Writer, f *File) error {
	e, err := prepare(f)
	if err != nil {
		return fmt.Errorf("encoding weights: %w", err)
	}
	return e.writeTo(w)
}

// writeTo writes the length, header and data of a prepared file.
func (e *encoded) writeTo(w io.Writer) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(e.header)))
	if _, err := w.Write(n[:]); err != nil {
		return fmt.Errorf("writing weights: %w", err)
	}
	if _, err := w.Write(e.header); err != nil {
		return fmt.Errorf("writing weights header: %w", err)
	}
	for _, c := range e.chunks {
		if _, err := w.Write(c); err != nil {
			return fmt.Errorf("writing weights data: %w", err)
		}
	}
	return nil
}

// Marshal returns the encoding of f.
func Marshal(f *File) ([]byte, error) {
	e, err := prepare(f)
	if err != nil {
		return nil, fmt.Errorf("encoding weights: %w", err)
	}
	size := 8 + len(e.header)
	for _, c := range e.chunks {
		size += len(c)
	}
	out := make([]byte, 8, size)
	binary.LittleEndian.PutUint64(out, uint64(len(e.header)))
	out = append(out, e.header...)
	for _, c := range e.chunks {
		out = append(out, c...)
	}
	return out, nil
}
