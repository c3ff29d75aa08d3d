package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// splitFile returns the header JSON and the data region of an encoded file.
func splitFile(t testing.TB, data []byte) (header, region []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(data)
	return data[8 : 8+n], data[8+n:]
}

// rebuild assembles a file from a header (padded here) and a data region.
func rebuild(header string, region []byte) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, region...)
}

// editHeader decodes the header into a generic map, lets edit change it and
// re-encodes it, keeping the data region.
func editHeader(t testing.TB, data []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	header, region := splitFile(t, data)
	var h map[string]any
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return rebuild(string(b), region)
}

func meta(h map[string]any) map[string]any { return h[metadataKey].(map[string]any) }

func tensorEntry(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }

func TestDecodeCorruption(t *testing.T) {
	good := marshal(t, sampleFile(t))
	_, region := splitFile(t, good)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrTooShort},
		{"7 bytes", good[:7], ErrTooShort},
		{"huge header length", append(binary.LittleEndian.AppendUint64(nil, 1<<62), good[8:]...), ErrHeaderTooLarge},
		{"max uint64 header length", append(binary.LittleEndian.AppendUint64(nil, ^uint64(0)), good[8:]...), ErrHeaderTooLarge},
		{"header past end", append(binary.LittleEndian.AppendUint64(nil, 1<<20), good[8:]...), ErrTruncated},
		{"garbage JSON", rebuild("{not json", nil), ErrInvalidHeader},
		{"JSON array", rebuild("[1,2]", nil), ErrInvalidHeader},
		{"empty header", rebuild("", nil), ErrInvalidHeader},
		{"trailing JSON", rebuild(`{} {}`, nil), ErrInvalidHeader},
		{"metadata not strings", rebuild(`{"__metadata__":{"a":1}}`, nil), ErrInvalidHeader},
		{"entry missing shape", rebuild(`{"x":{"dtype":"U8","data_offsets":[0,1]}}`, []byte{1}), ErrInvalidHeader},
		{"duplicate name", rebuild(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), ErrInvalidName},
		{"unknown dtype", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/b/i32")["dtype"] = "C64" }), ErrUnknownDType},
		{"negative dim", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/b/i32")["shape"] = []int{-2} }), ErrNegativeDim},
		{"shape mismatch", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/b/i32")["shape"] = []int{3} }), ErrShapeMismatch},
		{"dtype mismatch", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/b/i32")["dtype"] = "I64" }), ErrShapeMismatch},
		{"offsets past end", editHeader(t, good, func(h map[string]any) {
			tensorEntry(h, "/a/bytes")["data_offsets"] = []int{len(region) - 1, len(region) + 2}
		}), ErrBadOffsets},
		{"negative offset", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/a/bytes")["data_offsets"] = []int{-3, 0} }), ErrBadOffsets},
		{"reversed offsets", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/a/bytes")["data_offsets"] = []int{3, 0} }), ErrBadOffsets},
		{"overlap", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/b/f64")["data_offsets"] = []int{0, 16} }), ErrBadOffsets},
		{"trailing data", append(bytes.Clone(good), 0), ErrBadOffsets},
		{"gap", editHeader(t, good, func(h map[string]any) { delete(h, "/b/i32") }), ErrBadOffsets},
		{"no metadata", editHeader(t, good, func(h map[string]any) { delete(h, metadataKey) }), ErrNotWeightsFile},
		{"wrong format", editHeader(t, good, func(h map[string]any) { meta(h)["format"] = "pt" }), ErrNotWeightsFile},
		{"future version", editHeader(t, good, func(h map[string]any) { meta(h)["format_version"] = "2" }), ErrUnsupportedVersion},
		{"no manifest", editHeader(t, good, func(h map[string]any) { delete(meta(h), "manifest") }), ErrInvalidManifest},
		{"no checksum", editHeader(t, good, func(h map[string]any) { delete(meta(h), "checksum") }), ErrChecksum},
		{"malformed checksum", editHeader(t, good, func(h map[string]any) { meta(h)["checksum"] = "md5:abc" }), ErrChecksum},
		{"edited manifest", editHeader(t, good, func(h map[string]any) {
			meta(h)["manifest"] = strings.Replace(meta(h)["manifest"].(string), `"seed":42`, `"seed":43`, 1)
		}), ErrChecksum},
		{"manifest not JSON", editHeader(t, good, func(h map[string]any) { meta(h)["manifest"] = "{oops" }), ErrChecksum},
		{"renamed tensor", editHeader(t, good, func(h map[string]any) {
			h["/b/i33"] = h["/b/i32"]
			delete(h, "/b/i32")
		}), ErrChecksum},
		{"reshaped tensor", editHeader(t, good, func(h map[string]any) { tensorEntry(h, "/conv1/weights")["shape"] = []int{3, 2} }), ErrChecksum},
		{"python-style plain file", rebuild(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), ErrNotWeightsFile},
	}
	for _, c := range cases {
		_, err := Decode(c.data)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

func TestDecodeFlippedDataByte(t *testing.T) {
	good := marshal(t, sampleFile(t))
	header, region := splitFile(t, good)
	start := 8 + len(header)
	for i := range region {
		bad := bytes.Clone(good)
		bad[start+i] ^= 0x01
		_, err := Decode(bad)
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("flipped data byte %d: %v", i, err)
		}
		if !strings.Contains(err.Error(), "weights file is corrupted: checksum mismatch") {
			t.Fatalf("message %q", err)
		}
	}
}

// TestDecodeTruncated cuts the file at every length: each must fail.
func TestDecodeTruncated(t *testing.T) {
	good := marshal(t, sampleFile(t))
	for n := range len(good) {
		if _, err := Decode(good[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
}

// TestDecodeHugeHeaderNoAllocation checks that absurd header lengths are
// refused before anything proportional to them is allocated.
func TestDecodeHugeHeaderNoAllocation(t *testing.T) {
	data := append(binary.LittleEndian.AppendUint64(nil, 1<<60), make([]byte, 64)...)
	allocs := testing.AllocsPerRun(10, func() { _, _ = Decode(data) })
	if allocs > 10 {
		t.Errorf("%v allocations for a refused header", allocs)
	}
	for _, n := range []uint64{MaxHeaderSize + 1, 1 << 40} {
		_, err := Decode(append(binary.LittleEndian.AppendUint64(nil, n), make([]byte, 16)...))
		if !errors.Is(err, ErrHeaderTooLarge) {
			t.Errorf("length %d: %v", n, err)
		}
	}
}

func TestDecodeErrorsHaveContext(t *testing.T) {
	_, err := Decode([]byte{1, 2})
	if err == nil || !strings.HasPrefix(err.Error(), "decoding weights: ") {
		t.Errorf("error %q lacks context", err)
	}
}

// TestDecodeInvalidManifest signs a bad manifest with a correct checksum, so
// the manifest checks themselves are reached.
func TestDecodeInvalidManifest(t *testing.T) {
	for _, manifest := range []string{"{oops", "null", "[1]", `{"seed":"x"}`} {
		sum := checksumOf([]byte(manifest), nil, [][]byte{nil})
		header := fmt.Sprintf(`{"__metadata__":{"format":%q,"format_version":"1","manifest":%q,"checksum":%q}}`,
			FormatName, manifest, sum)
		_, err := Decode(rebuild(header, nil))
		if !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("manifest %q: %v", manifest, err)
		}
	}
}
