package weights

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Decode parses and fully validates a weights file: layout, offsets, format
// marker, version and checksum. It never panics and allocates at most a copy
// of the data region (tensors do not alias data).
func Decode(data []byte) (*File, error) {
	f, _, err := decode(data, true)
	if err != nil {
		return nil, fmt.Errorf("decoding weights: %w", err)
	}
	return f, nil
}

// Identity validates data like Decode and returns the model identity (see
// File.ID) without copying the tensors.
func Identity(data []byte) (string, error) {
	_, sum, err := decode(data, false)
	if err != nil {
		return "", fmt.Errorf("decoding weights: %w", err)
	}
	return idFromChecksum(sum), nil
}

var checksumPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// decode returns the File (nil unless withData) and the verified checksum.
func decode(data []byte, withData bool) (*File, string, error) {
	if len(data) < 8 {
		return nil, "", fmt.Errorf("%w: %d bytes", ErrTooShort, len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	// Both checks come before touching the header, so a hostile length costs
	// nothing; the header is a sub-slice of data, never a new allocation.
	if n > MaxHeaderSize {
		return nil, "", fmt.Errorf("%w: %d bytes (max %d)", ErrHeaderTooLarge, n, MaxHeaderSize)
	}
	if n > uint64(len(data)-8) {
		return nil, "", fmt.Errorf("%w: header length %d but only %d bytes follow", ErrTruncated, n, len(data)-8)
	}
	header, region := data[8:8+n], data[8+n:]

	entries, meta, err := parseHeader(header, len(region))
	if err != nil {
		return nil, "", err
	}
	if err := checkCoverage(entries, len(region)); err != nil {
		return nil, "", err
	}
	if meta[metaFormat] != FormatName {
		return nil, "", fmt.Errorf("%w: format marker is %q, want %q", ErrNotWeightsFile, meta[metaFormat], FormatName)
	}
	if v := meta[metaVersion]; v != FormatVersion {
		return nil, "", fmt.Errorf("%w: %q (this version reads %q)", ErrUnsupportedVersion, v, FormatVersion)
	}
	manifest, ok := meta[metaManifest]
	if !ok {
		return nil, "", fmt.Errorf("%w: missing", ErrInvalidManifest)
	}
	stored := meta[metaChecksum]
	if !checksumPattern.MatchString(stored) {
		return nil, "", fmt.Errorf("%w: stored checksum %q missing or malformed", ErrChecksum, stored)
	}

	// The checksum is verified before the manifest is parsed, so an edited
	// manifest is reported as corruption, not as a confusing parse error.
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	if sum := checksumOf([]byte(manifest), entries, [][]byte{region}); sum != stored {
		return nil, "", fmt.Errorf("%w (stored %s, computed %s)", ErrChecksum, stored, sum)
	}

	if !strings.HasPrefix(strings.TrimLeft(manifest, " \t\r\n"), "{") {
		return nil, "", fmt.Errorf("%w: not a JSON object", ErrInvalidManifest)
	}
	f := &File{}
	if err := json.Unmarshal([]byte(manifest), &f.Manifest); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if !withData {
		return nil, stored, nil
	}
	buf := make([]byte, len(region))
	copy(buf, region)
	f.Tensors = make([]Tensor, len(entries))
	for i, e := range entries {
		f.Tensors[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: buf[e.begin:e.end:e.end]}
	}
	return f, stored, nil
}

// headerEntry is a tensor as written in the JSON header. Pointers tell a
// missing field from an empty one.
type headerEntry struct {
	DType   *string  `json:"dtype"`
	Shape   *[]int64 `json:"shape"`
	Offsets *[]int64 `json:"data_offsets"`
}

// parseHeader reads the JSON header as a token stream, so duplicate tensor
// names are caught (a map would silently keep the last one), and checks each
// entry on its own. regionLen bounds the offsets.
func parseHeader(header []byte, regionLen int) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: not a JSON object", ErrInvalidHeader)
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrInvalidHeader, err)
		}
		name, _ := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("%w: duplicate key %q", ErrInvalidName, name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%w: %s must map strings to strings: %w", ErrInvalidHeader, metadataKey, err)
			}
			continue
		}
		var he headerEntry
		if err := dec.Decode(&he); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %q: %w", ErrInvalidHeader, name, err)
		}
		e, err := checkEntry(name, &he, regionLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, nil, fmt.Errorf("%w: unterminated object", ErrInvalidHeader)
	}
	// Only the space padding may follow the object.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidHeader)
	}
	return entries, meta, nil
}

// checkEntry validates one tensor entry: name, dtype, shape, and that its
// offsets lie in the data region and span exactly shape × dtype size bytes.
func checkEntry(name string, he *headerEntry, regionLen int) (entry, error) {
	e := entry{name: name}
	if err := checkName(name); err != nil {
		return e, err
	}
	if he.DType == nil || he.Shape == nil || he.Offsets == nil {
		return e, fmt.Errorf("%w: tensor %q needs dtype, shape and data_offsets", ErrInvalidHeader, name)
	}
	e.dtype = DType(*he.DType)
	if !e.dtype.Valid() {
		return e, fmt.Errorf("%w: tensor %q has dtype %q", ErrUnknownDType, name, *he.DType)
	}
	e.shape = make([]int, len(*he.Shape))
	for i, d := range *he.Shape {
		if d < 0 {
			return e, fmt.Errorf("%w: tensor %q has shape %v", ErrNegativeDim, name, *he.Shape)
		}
		if d > math.MaxInt {
			return e, fmt.Errorf("%w: tensor %q has shape %v", ErrShapeMismatch, name, *he.Shape)
		}
		e.shape[i] = int(d)
	}
	off := *he.Offsets
	if len(off) != 2 || off[0] < 0 || off[0] > off[1] || off[1] > int64(regionLen) {
		return e, fmt.Errorf("%w: tensor %q has data_offsets %v, data region has %d bytes",
			ErrBadOffsets, name, off, regionLen)
	}
	e.begin, e.end = int(off[0]), int(off[1])
	size, err := byteSize(e.dtype, e.shape)
	if err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	if size != e.end-e.begin {
		return e, fmt.Errorf("%w: tensor %q is %s%v (%d bytes) but data_offsets span %d bytes",
			ErrShapeMismatch, name, e.dtype, e.shape, size, e.end-e.begin)
	}
	return e, nil
}

// checkCoverage requires the tensors to tile the data region exactly: no
// overlap (two tensors sharing bytes), no gap and no trailing bytes (data
// that nothing describes), as the reference implementation requires.
func checkCoverage(entries []entry, regionLen int) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	pos := 0
	for _, e := range sorted {
		if e.begin < pos {
			return fmt.Errorf("%w: tensor %q at [%d,%d] overlaps the previous one ending at %d",
				ErrBadOffsets, e.name, e.begin, e.end, pos)
		}
		if e.begin > pos {
			return fmt.Errorf("%w: gap of bytes [%d,%d] before tensor %q", ErrBadOffsets, pos, e.begin, e.name)
		}
		pos = e.end
	}
	if pos != regionLen {
		return fmt.Errorf("%w: tensors cover %d bytes of a %d-byte data region", ErrBadOffsets, pos, regionLen)
	}
	return nil
}
