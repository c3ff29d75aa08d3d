package weights

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/dtypes/bfloat16"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// newTestContext builds, without any backend, a context holding model
// weights of several dtypes plus typical training state.
func newTestContext(t *testing.T) *context.Context {
	t.Helper()
	ctx := context.New()
	ctx.In("conv1").VariableWithValue("weights", [][]float32{{1, -2, 3}, {4.5, 5, -6}})
	ctx.In("conv1").VariableWithValue("bias", []float32{0.25, -0.5})
	ctx.In("bn").VariableWithValue("mean", []float64{1e-300, 2}).SetTrainable(false)
	ctx.In("misc").VariableWithValue("i32", []int32{-7, 1 << 30})
	ctx.In("misc").VariableWithValue("u8", []uint8{0, 255})
	ctx.In("misc").VariableWithValue("bools", []bool{true, false, true})
	ctx.In("misc").VariableWithValue("i8", []int8{-128, 127})
	ctx.In("misc").VariableWithValue("i16", []int16{-300, 300})
	ctx.In("misc").VariableWithValue("u64", []uint64{1 << 63, 3})
	ctx.In("misc").VariableWithValue("empty", tensors.FromShape(shapes.Make(dtypes.Float32, 0, 4)))
	ctx.In("misc").VariableWithValue("bf16", tensors.FromFlatDataAndDimensions(
		[]bfloat16.BFloat16{bfloat16.FromFloat32(1.5), bfloat16.FromFloat32(-2)}, 2))
	f16 := tensors.FromShape(shapes.Make(dtypes.Float16, 2))
	if err := f16.MutableBytes(func(b []byte) { copy(b, []byte{0x00, 0x3c, 0x00, 0xc0}) }); err != nil { // 1.0, -2.0
		t.Fatal(err)
	}
	ctx.In("misc").VariableWithValue("f16", f16)
	ctx.VariableWithValue("global_step", int64(1234)).SetTrainable(false)
	ctx.InAbsPath("/optimizers").VariableWithValue("learning_rate", 0.001).SetTrainable(false)
	ctx.InAbsPath("/AdamOptimizer/conv1").VariableWithValue("weights_1st_moment", [][]float32{{0, 0, 0}, {0, 0, 0}}).SetTrainable(false)
	return ctx
}

// snapshot returns each variable (by full name) as a Tensor and its
// trainable flag.
func snapshot(t *testing.T, ctx *context.Context) (map[string]Tensor, map[string]bool) {
	t.Helper()
	values, trainable := map[string]Tensor{}, map[string]bool{}
	for v := range ctx.IterVariables() {
		name := v.ScopeAndName()
		x, err := FromGoMLX(name, v.MustValue())
		if err != nil {
			t.Fatal(err)
		}
		values[name], trainable[name] = x, v.Trainable
	}
	return values, trainable
}

func TestContextRoundTrip(t *testing.T) {
	src := newTestContext(t)
	f, err := FromContext(src, Manifest{Model: "cnn", NonTrainable: []string{"ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != src.NumVariables() {
		t.Fatalf("%d tensors for %d variables", len(f.Tensors), src.NumVariables())
	}
	wantNonTrainable := []string{"/AdamOptimizer/conv1/weights_1st_moment", "/bn/mean", "/global_step", "/optimizers/learning_rate"}
	if !slices.Equal(f.Manifest.NonTrainable, wantNonTrainable) {
		t.Errorf("NonTrainable = %v", f.Manifest.NonTrainable)
	}
	w, ok := f.Get("/conv1/weights")
	if !ok || w.DType != Float32 || !slices.Equal(w.Shape, []int{2, 3}) {
		t.Fatalf("/conv1/weights = %+v", w)
	}
	if v, _ := w.Float32s(); !slices.Equal(v, []float32{1, -2, 3, 4.5, 5, -6}) {
		t.Errorf("values %v", v)
	}
	if b, _ := f.Get("/misc/bools"); !bytes.Equal(b.Data, []byte{1, 0, 1}) || b.DType != Bool {
		t.Errorf("bools %+v", b)
	}
	if x, _ := f.Get("/misc/i16"); !bytes.Equal(x.Data, []byte{0xd4, 0xfe, 0x2c, 0x01}) {
		t.Errorf("i16 little-endian bytes %x", x.Data)
	}

	g, err := Decode(marshal(t, f))
	if err != nil {
		t.Fatal(err)
	}
	dst := context.New()
	if err := g.LoadInto(dst); err != nil {
		t.Fatal(err)
	}
	wantValues, wantTrainable := snapshot(t, src)
	gotValues, gotTrainable := snapshot(t, dst)
	if !reflect.DeepEqual(gotTrainable, wantTrainable) {
		t.Errorf("trainable flags %v, want %v", gotTrainable, wantTrainable)
	}
	for name, want := range wantValues {
		got := gotValues[name]
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
	// Typed GoMLX values survive, not just bytes.
	if v := tensors.MustCopyFlatData[uint64](dst.GetVariableByScopeAndName("/misc", "u64").MustValue()); v[0] != 1<<63 {
		t.Errorf("u64 = %v", v)
	}
	if v := tensors.MustCopyFlatData[int8](dst.GetVariableByScopeAndName("/misc", "i8").MustValue()); !slices.Equal(v, []int8{-128, 127}) {
		t.Errorf("i8 = %v", v)
	}
	if v := tensors.MustCopyFlatData[bfloat16.BFloat16](dst.GetVariableByScopeAndName("/misc", "bf16").MustValue()); v[0].Float32() != 1.5 {
		t.Errorf("bf16 = %v", v)
	}
	if step := dst.GetVariableByScopeAndName("/", "global_step").MustValue().Value(); step != int64(1234) {
		t.Errorf("global_step = %v", step)
	}
}

func TestContextSelection(t *testing.T) {
	ctx := newTestContext(t)
	names := func(opts ...Option) []string {
		f, err := FromContext(ctx, Manifest{}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return f.Names()
	}
	shipped := names(WithoutTrainingState())
	for _, n := range shipped {
		if n == "/global_step" || n == "/optimizers/learning_rate" || n == "/AdamOptimizer/conv1/weights_1st_moment" {
			t.Errorf("training state %q shipped", n)
		}
	}
	if !slices.Contains(shipped, "/bn/mean") || !slices.Contains(shipped, "/conv1/weights") {
		t.Errorf("shipped weights miss model variables: %v", shipped)
	}
	if got := names(TrainableOnly()); slices.Contains(got, "/bn/mean") || !slices.Contains(got, "/conv1/bias") {
		t.Errorf("TrainableOnly: %v", got)
	}
	if got := names(SkipScopes("/misc", "/conv")); slices.Contains(got, "/misc/u8") || !slices.Contains(got, "/conv1/bias") {
		t.Errorf("SkipScopes: %v", got)
	}
	if got := names(SkipNames("/conv1/bias")); slices.Contains(got, "/conv1/bias") || !slices.Contains(got, "/conv1/weights") {
		t.Errorf("SkipNames: %v", got)
	}

	// Options apply to loading too.
	full, _ := FromContext(ctx, Manifest{})
	dst := context.New()
	if err := full.LoadInto(dst, WithoutTrainingState()); err != nil {
		t.Fatal(err)
	}
	if dst.GetVariableByScopeAndName("/", "global_step") != nil || dst.GetVariableByScopeAndName("/conv1", "weights") == nil {
		t.Error("LoadInto ignored WithoutTrainingState")
	}
}

func TestLoadIntoExisting(t *testing.T) {
	f, err := FromContext(newTestContext(t), Manifest{})
	if err != nil {
		t.Fatal(err)
	}
	// An existing variable of the same shape is overwritten, keeping its flag.
	dst := context.New()
	v := dst.In("conv1").VariableWithValue("weights", [][]float32{{0, 0, 0}, {0, 0, 0}}).SetTrainable(false)
	if err := f.LoadInto(dst); err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](v.MustValue()); got[3] != 4.5 || v.Trainable {
		t.Errorf("existing variable: %v trainable=%v", got, v.Trainable)
	}

	// A shape mismatch is refused before any variable changes.
	dst = context.New()
	bias := dst.In("conv1").VariableWithValue("bias", []float32{9, 9})
	dst.In("misc").VariableWithValue("u8", []uint8{1, 2, 3}) // file has 2 elements
	err = f.LoadInto(dst)
	if !errors.Is(err, ErrShapeMismatch) {
		t.Fatalf("mismatch: %v", err)
	}
	if got := tensors.MustCopyFlatData[float32](bias.MustValue()); got[0] != 9 {
		t.Error("context changed despite the error")
	}
	if dst.NumVariables() != 2 {
		t.Errorf("%d variables created despite the error", dst.NumVariables())
	}
}

func TestContextErrors(t *testing.T) {
	if _, err := FromContext(nil, Manifest{}); err == nil {
		t.Error("nil context accepted")
	}
	ctx := context.New()
	ctx.VariableWithShape("uninitialized", shapes.Make(dtypes.Float32, 2))
	if _, err := FromContext(ctx, Manifest{}); err == nil {
		t.Error("variable without value accepted")
	}
	ctx = context.New()
	ctx.VariableWithValue("c", []complex64{1})
	if _, err := FromContext(ctx, Manifest{}); !errors.Is(err, ErrUnsupportedDType) {
		t.Errorf("complex64: %v", err)
	}

	x, _ := FromFloat32("encoder.weight", []int{1}, []float32{1})
	f := &File{Tensors: []Tensor{x}}
	if err := f.LoadInto(context.New()); !errors.Is(err, ErrInvalidName) {
		t.Errorf("non-GoMLX name: %v", err)
	}
	bad := &File{Tensors: []Tensor{{Name: "/x", DType: Float32, Shape: []int{2}, Data: []byte{1}}}}
	if err := bad.LoadInto(context.New()); !errors.Is(err, ErrShapeMismatch) {
		t.Errorf("inconsistent tensor: %v", err)
	}
	if err := f.LoadInto(nil); err == nil {
		t.Error("nil context accepted")
	}
}
