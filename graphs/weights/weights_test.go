package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleFile returns a small file with several dtypes, a scalar and an empty
// tensor, given in non-sorted order.
func sampleFile(t testing.TB) *File {
	t.Helper()
	must := func(x Tensor, err error) Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	return &File{
		Manifest: Manifest{
			Model:       "cnn",
			Config:      json.RawMessage(`{"latent_dim":32,"act":"relu","bn":true}`),
			Training:    &Training{Epochs: 3, Batch: 64, LR: 0.001, ValSize: 500, History: []Epoch{{Epoch: 1, TrainLoss: 0.5, ValLoss: 0.25, Seconds: 2}}},
			Temperature: 1.25,
			Command:     "mnistzip train --model cnn",
			Seed:        42,
			Metrics:     map[string]float64{"accuracy": 0.991, "loss": 0.03},
			Backend:     "xla:cpu",
			CreatedBy:   "mnistzip test",
			TrainedAt:   "2025-01-02T03:04:05Z",
			Notes:       "a <note> & more",
		},
		Tensors: []Tensor{
			must(FromFloat32("/conv1/weights", []int{2, 3}, []float32{1, -2, 3.5, 0, 1e-9, -7})),
			must(FromInt64("/global_step", []int{}, []int64{1234})),
			must(FromUint8("/a/bytes", []int{3}, []uint8{0, 128, 255})),
			must(FromFloat64("/b/f64", []int{1, 2}, []float64{3.141592653589793, -1})),
			must(FromInt32("/b/i32", []int{2}, []int32{-1, 1 << 30})),
			must(FromFloat32("/empty", []int{0, 5}, nil)),
		},
	}
}

func marshal(t testing.TB, f *File) []byte {
	t.Helper()
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRoundTrip(t *testing.T) {
	f := sampleFile(t)
	data := marshal(t, f)
	g, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"/a/bytes", "/b/f64", "/b/i32", "/conv1/weights", "/empty", "/global_step"}
	if got := g.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Fatalf("names %v, want %v", got, wantNames)
	}
	for _, want := range f.Tensors {
		got, ok := g.Get(want.Name)
		if !ok {
			t.Fatalf("missing %q", want.Name)
		}
		if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%q: got %s%v %x, want %s%v %x", want.Name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
		}
	}
	w, _ := g.Get("/conv1/weights")
	if v, err := w.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{1, -2, 3.5, 0, 1e-9, -7}) {
		t.Errorf("Float32s = %v, %v", v, err)
	}
	step, _ := g.Get("/global_step")
	if v, err := step.Int64s(); err != nil || !reflect.DeepEqual(v, []int64{1234}) {
		t.Errorf("Int64s = %v, %v", v, err)
	}
	if _, err := step.Float32s(); err == nil {
		t.Error("Float32s on an I64 tensor: want an error")
	}
	if _, ok := g.Get("/nope"); ok {
		t.Error("Get of a missing name succeeded")
	}

	m := g.Manifest
	if m.Model != "cnn" || m.Seed != 42 || m.Notes != f.Manifest.Notes || m.Metrics["accuracy"] != 0.991 ||
		m.TrainedAt != f.Manifest.TrainedAt || m.Command != f.Manifest.Command {
		t.Errorf("manifest %+v", m)
	}
	if string(m.Config) != `{"act":"relu","bn":true,"latent_dim":32}` { // canonical: keys sorted
		t.Errorf("config %s", m.Config)
	}
	if tr, ok := m.TrainingRecord(); !ok || !reflect.DeepEqual(tr, *f.Manifest.Training) {
		t.Errorf("training record %+v, %v", tr, ok)
	}
	if temp, ok := m.SoftmaxTemperature(); !ok || temp != 1.25 {
		t.Errorf("temperature %v, %v", temp, ok)
	}

	// Byte-deterministic: encoding twice, re-encoding the decoded file, and
	// encoding the tensors in another order all give the same bytes.
	if again := marshal(t, f); !bytes.Equal(again, data) {
		t.Error("encoding twice gave different bytes")
	}
	if re := marshal(t, g); !bytes.Equal(re, data) {
		t.Error("re-encoding the decoded file gave different bytes")
	}
	rev := *f
	rev.Tensors = append([]Tensor(nil), f.Tensors...)
	for i, j := 0, len(rev.Tensors)-1; i < j; i, j = i+1, j-1 {
		rev.Tensors[i], rev.Tensors[j] = rev.Tensors[j], rev.Tensors[i]
	}
	if re := marshal(t, &rev); !bytes.Equal(re, data) {
		t.Error("tensor order changed the bytes")
	}
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("Encode differs from Marshal (err %v)", err)
	}

	// Decoded tensors must not alias the input.
	data[len(data)-1] ^= 0xff
	if v, _ := step.Int64s(); v[0] != 1234 {
		t.Error("decoded tensor aliases the input buffer")
	}
}

func TestIdentity(t *testing.T) {
	f := sampleFile(t)
	data := marshal(t, f)
	id, err := Identity(data)
	if err != nil {
		t.Fatal(err)
	}
	fid, err := f.ID()
	if err != nil || fid != id || len(id) != 16 {
		t.Fatalf("ID %q (%v), Identity %q", fid, err, id)
	}
	g, _ := Decode(data)
	if gid, _ := g.ID(); gid != id {
		t.Errorf("decoded ID %q, want %q", gid, id)
	}
	f.Manifest.Notes = "changed"
	if id2, _ := f.ID(); id2 == id {
		t.Error("ID did not change with the manifest")
	}
	f.Manifest.Notes = sampleFile(t).Manifest.Notes
	f.Tensors[0].Data[0] ^= 1
	if id2, _ := f.ID(); id2 == id {
		t.Error("ID did not change with the data")
	}
	if _, err := Identity(data[:len(data)-1]); err == nil {
		t.Error("Identity of a truncated file succeeded")
	}
}

func TestManifestUnknownFieldsPreserved(t *testing.T) {
	var m Manifest
	in := `{"model":"vae","seed":7,"future_field":{"a":[1,2]},"another":"x","Notes":"case folded"}`
	if err := json.Unmarshal([]byte(in), &m); err != nil {
		t.Fatal(err)
	}
	if m.Model != "vae" || m.Seed != 7 || m.Notes != "case folded" {
		t.Fatalf("known fields: %+v", m)
	}
	if len(m.Extra) != 2 || string(m.Extra["another"]) != `"x"` {
		t.Fatalf("Extra = %v", m.Extra)
	}
	f := &File{Manifest: m}
	g, err := Decode(marshal(t, f))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(g.Manifest.Extra["future_field"]); got != `{"a":[1,2]}` {
		t.Errorf("future_field = %s", got)
	}
	if g.Manifest.Notes != "case folded" {
		t.Errorf("Notes = %q", g.Manifest.Notes)
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	good, _ := FromFloat32("/x", []int{2}, []float32{1, 2})
	cases := map[string]struct {
		f    *File
		want error
	}{
		"duplicate":     {&File{Tensors: []Tensor{good, good}}, ErrInvalidName},
		"empty name":    {&File{Tensors: []Tensor{{DType: Float32, Shape: []int{}, Data: make([]byte, 4)}}}, ErrInvalidName},
		"reserved name": {&File{Tensors: []Tensor{{Name: metadataKey, DType: Uint8, Data: []byte{1}}}}, ErrInvalidName},
		"bad utf8":      {&File{Tensors: []Tensor{{Name: "\xff", DType: Uint8, Data: []byte{1}}}}, ErrInvalidName},
		"dtype":         {&File{Tensors: []Tensor{{Name: "x", DType: "C64", Data: []byte{1}}}}, ErrUnknownDType},
		"negative":      {&File{Tensors: []Tensor{{Name: "x", DType: Uint8, Shape: []int{-1}}}}, ErrNegativeDim},
		"size":          {&File{Tensors: []Tensor{{Name: "x", DType: Float32, Shape: []int{2}, Data: make([]byte, 7)}}}, ErrShapeMismatch},
		"overflow":      {&File{Tensors: []Tensor{{Name: "x", DType: Float32, Shape: []int{1 << 40, 1 << 40}}}}, ErrShapeMismatch},
		"NaN metric":    {&File{Manifest: Manifest{Metrics: map[string]float64{"loss": nan()}}}, ErrInvalidManifest},
		"bad extra":     {&File{Manifest: Manifest{Extra: map[string]json.RawMessage{"x": json.RawMessage("{")}}}, ErrInvalidManifest},
	}
	for name, c := range cases {
		var buf bytes.Buffer
		err := Encode(&buf, c.f)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes despite the error", name, buf.Len())
		}
	}
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
	if _, err := FromFloat32("x", []int{3}, []float32{1}); !errors.Is(err, ErrShapeMismatch) {
		t.Errorf("FromFloat32 with wrong count: %v", err)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestWriteFileReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	f := sampleFile(t)
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, g), marshal(t, f)) {
		t.Error("file round trip differs")
	}
	// Overwrite in place.
	f.Manifest.Notes = "v2"
	if err := WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	if g, err := ReadFile(path); err != nil || g.Manifest.Notes != "v2" {
		t.Fatalf("after overwrite: %v %v", g, err)
	}
	r, err := Read(bytes.NewReader(marshal(t, f)))
	if err != nil || r.Manifest.Notes != "v2" {
		t.Fatalf("Read: %v", err)
	}

	// An invalid file leaves nothing behind.
	bad := &File{Tensors: []Tensor{{Name: "x", DType: "??"}}}
	if err := WriteFile(filepath.Join(dir, "bad"), bad); !errors.Is(err, ErrUnknownDType) {
		t.Errorf("invalid file: %v", err)
	}
	// A failing rename (the target is a folder) removes the temporary file.
	target := filepath.Join(dir, "folder")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, f); err == nil {
		t.Error("writing over a folder succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want 2", len(entries))
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestIDSurvivesRoundTrip: a manifest with nested structs and floats must give the same ID after
// decoding as before encoding (the codec compares them).
func TestIDSurvivesRoundTrip(t *testing.T) {
	tensor, err := FromFloat32("/w", []int{2}, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	f := &File{Manifest: Manifest{Model: "ae", Config: json.RawMessage(`{"z":1,"history":[{"epoch":1,"loss":0.25},{"epoch":2,"loss":0.3333333333333333}]}`),
		Metrics: map[string]float64{"b": 9.95235, "a": 1e-7}}, Tensors: []Tensor{tensor}}
	before, err := f.ID()
	if err != nil {
		t.Fatal(err)
	}
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	after, err := g.ID()
	if err != nil {
		t.Fatal(err)
	}
	stored, err := Identity(data)
	if err != nil {
		t.Fatal(err)
	}
	if before != after || before != stored {
		t.Errorf("IDs differ: before encoding %s, after decoding %s, stored %s", before, after, stored)
	}
}

// A file written before the registry keeps a flat config object holding the training options, the
// history, a checkpoint's position and the temperature: they are read from there, and the object
// is kept as written (so the file's ID survives a decode and re-encode).
func TestLegacyFlatConfig(t *testing.T) {
	tensor, err := FromFloat32("/w", []int{1}, []float32{1})
	if err != nil {
		t.Fatal(err)
	}
	flat := `{"batch":128,"channels0":16,"checkpoint_epoch":2,"checkpoint_history":[{"epoch":1,"train_loss":0.5,"val_loss":0.4,"seconds":3}],"checkpoint_step":7,"epochs":6,"kind":"ae","lr":0.001,"temperature":1.5,"val_size":5000}`
	f := &File{Manifest: Manifest{Model: "ae", Config: json.RawMessage(flat)}, Tensors: []Tensor{tensor}}
	data, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := g.Manifest.TrainingRecord()
	want := Training{Epochs: 6, Batch: 128, LR: 0.001, ValSize: 5000, History: []Epoch{{1, 0.5, 0.4, 3}}, Checkpoint: &Position{Epoch: 2, Step: 7}}
	if !ok || !reflect.DeepEqual(tr, want) {
		t.Errorf("training record %+v (%v), want %+v", tr, ok, want)
	}
	if temp, ok := g.Manifest.SoftmaxTemperature(); !ok || temp != 1.5 {
		t.Errorf("temperature %v, %v", temp, ok)
	}
	if re := marshal(t, g); !bytes.Equal(re, data) {
		t.Error("re-encoding a flat-config file changed its bytes")
	}
	if _, ok := (&Manifest{Config: json.RawMessage(`{"kind":"ae"}`)}).TrainingRecord(); ok {
		t.Error("a config without training keys gave a training record")
	}
}

// TestReadFileBounded: ReadFile stops reading past MaxFileBytes (a path to /dev/zero must not fill
// memory) and says so in one line.
func TestReadFileBounded(t *testing.T) {
	defer func(old int64) { MaxFileBytes = old }(MaxFileBytes)
	MaxFileBytes = 1 << 10
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, 4<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "larger than") || strings.Contains(err.Error(), "\n") {
		t.Errorf("ReadFile of a file over the bound: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("ReadFile(/dev/zero): %v", err)
		}
	}
}
