package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenHeader pins the exact bytes of a tiny file: a change here breaks
// compatibility with files already written (and changes model IDs).
const goldenHeader = `{"__metadata__":{"checksum":"sha256:ddc6812122623b1fedbdc1afceb2f7dea4e4df250ffd3dfd34edf25b7c86e00a",` +
	`"format":"mnistzip-weights","format_version":"1","manifest":"{\"model\":\"ae\",\"seed\":0}"},` +
	`"/s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"/w":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}   `

func goldenFile(t testing.TB) *File {
	w, err := FromUint8("/w", []int{2}, []uint8{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromFloat32("/s", nil, []float32{1})
	if err != nil {
		t.Fatal(err)
	}
	return &File{Manifest: Manifest{Model: "ae"}, Tensors: []Tensor{w, s}}
}

func TestGoldenBytes(t *testing.T) {
	data := marshal(t, goldenFile(t))
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(goldenHeader)))
	want = append(want, goldenHeader...)
	want = append(want, 0x00, 0x00, 0x80, 0x3f, 0x01, 0x02) // float32(1) little-endian, then U8 1, 2
	if !bytes.Equal(data, want) {
		t.Fatalf("golden mismatch:\n got %q\nwant %q", data, want)
	}
	if id, _ := Identity(data); id != "ddc6812122623b1f" {
		t.Errorf("Identity = %q", id)
	}
}

// TestSafetensorsLayout parses an encoded file by hand, following the
// safetensors spec rather than this package's decoder.
func TestSafetensorsLayout(t *testing.T) {
	f := sampleFile(t)
	data := marshal(t, f)

	n := binary.LittleEndian.Uint64(data[:8])
	if n%8 != 0 || 8+n > uint64(len(data)) {
		t.Fatalf("header length %d (file %d bytes)", n, len(data))
	}
	header := data[8 : 8+n]
	trimmed := bytes.TrimRight(header, " ")
	if header[0] != '{' || trimmed[len(trimmed)-1] != '}' || len(header)-len(trimmed) >= 8 {
		t.Fatalf("header must be a JSON object padded with < 8 spaces: %q", header)
	}
	region := data[8+n:]

	var h map[string]json.RawMessage
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string // the spec: string to string only
	if err := json.Unmarshal(h["__metadata__"], &meta); err != nil {
		t.Fatalf("__metadata__: %v", err)
	}
	if meta["format"] != "mnistzip-weights" || meta["format_version"] != "1" ||
		!strings.HasPrefix(meta["checksum"], "sha256:") || len(meta["checksum"]) != 7+64 {
		t.Errorf("metadata %v", meta)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(meta["manifest"]), &m); err != nil || m["model"] != "cnn" {
		t.Errorf("manifest %q: %v", meta["manifest"], err)
	}

	type info struct {
		DType       string `json:"dtype"`
		Shape       []int  `json:"shape"`
		DataOffsets []int  `json:"data_offsets"`
	}
	var names []string
	for k := range h {
		if k != "__metadata__" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	sizes := map[string]int{"F32": 4, "F64": 8, "I32": 4, "I64": 8, "U8": 1}
	pos := 0
	for _, name := range names {
		var e info
		dec := json.NewDecoder(bytes.NewReader(h[name]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		count := 1
		for _, d := range e.Shape {
			count *= d
		}
		// Contiguous, in name order, each exactly product(shape) × size.
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] != pos || e.DataOffsets[1]-pos != count*sizes[e.DType] {
			t.Fatalf("%s: %+v at position %d", name, e, pos)
		}
		want, _ := f.Get(name)
		if e.DType != string(want.DType) || !slices.Equal(e.Shape, want.Shape) ||
			!bytes.Equal(region[e.DataOffsets[0]:e.DataOffsets[1]], want.Data) {
			t.Errorf("%s: %+v does not match the source tensor", name, e)
		}
		pos = e.DataOffsets[1]
	}
	if pos != len(region) {
		t.Errorf("tensors cover %d of %d data bytes", pos, len(region))
	}
	if (8+n)%8 != 0 {
		t.Error("data region not 8-aligned")
	}
}

// pythonCheck re-checks a file with an independent implementation: the
// layout and the checksum as documented in doc.go, using only the Python
// standard library, and loading with Python's safetensors when installed.
const pythonCheck = `
import hashlib, json, struct, sys
d = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', d[:8])[0]
h = json.loads(d[8:8 + n]); region = d[8 + n:]
m = h['__metadata__']
u64 = lambda x: struct.pack('<Q', x)
b = lambda x: u64(len(x)) + x
names = sorted(k for k in h if k != '__metadata__')
s = b(m['manifest'].encode()) + u64(len(names))
for k in names:
    e = h[k]
    s += b(k.encode()) + b(e['dtype'].encode()) + u64(len(e['shape']))
    s += b''.join(u64(x) for x in e['shape']) + u64(e['data_offsets'][0]) + u64(e['data_offsets'][1])
assert 'sha256:' + hashlib.sha256(s + region).hexdigest() == m['checksum'], 'checksum'
try:
    from safetensors import safe_open
except ImportError:
    print('no-safetensors'); sys.exit(0)
with safe_open(sys.argv[1], framework='numpy') as f:
    assert f.metadata()['format'] == 'mnistzip-weights'
    assert sorted(f.keys()) == names
    w = f.get_tensor('/conv1/weights')
    assert w.shape == (2, 3) and w[0, 2] == 3.5, w
print('ok')
`

func TestPythonIndependentCheck(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not available")
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, marshal(t, sampleFile(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", pythonCheck, path).CombinedOutput()
	if err != nil {
		t.Fatalf("python check failed: %v\n%s", err, out)
	}
	if strings.TrimSpace(string(out)) == "no-safetensors" {
		t.Log("layout and checksum verified with the Python standard library; safetensors not installed, load skipped")
	}
}
