package weights

// Bridge between weights files and GoMLX contexts. Only pure-Go GoMLX
// packages are imported (no backend), so this also builds for js/wasm.

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

var toGoMLX = map[DType]dtypes.DType{
	Bool: dtypes.Bool, Uint8: dtypes.Uint8, Int8: dtypes.Int8,
	Int16: dtypes.Int16, Uint16: dtypes.Uint16, Float16: dtypes.Float16, BFloat16: dtypes.BFloat16,
	Int32: dtypes.Int32, Uint32: dtypes.Uint32, Float32: dtypes.Float32,
	Int64: dtypes.Int64, Uint64: dtypes.Uint64, Float64: dtypes.Float64,
}

// GoMLX returns the GoMLX dtype for d.
func (d DType) GoMLX() (dtypes.DType, error) {
	g, ok := toGoMLX[d]
	if !ok {
		return dtypes.InvalidDType, fmt.Errorf("%w: %q", ErrUnknownDType, string(d))
	}
	return g, nil
}

// DTypeFromGoMLX returns the file dtype for a GoMLX dtype. Complex, 8-bit
// float and sub-byte dtypes have no equivalent here.
func DTypeFromGoMLX(g dtypes.DType) (DType, error) {
	for d, gd := range toGoMLX {
		if gd == g {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrUnsupportedDType, g)
}

// catch turns a panic into an error: GoMLX reports many failures by
// panicking, and bad input must never crash the caller (e.g. the browser).
func catch(err *error) {
	if r := recover(); r != nil {
		if e, ok := r.(error); ok {
			*err = fmt.Errorf("gomlx: %w", e)
		} else {
			*err = fmt.Errorf("gomlx: %v", r)
		}
	}
}

// FromGoMLX copies a GoMLX tensor (local or on a device) into a Tensor.
func FromGoMLX(name string, t *tensors.Tensor) (out Tensor, err error) {
	defer func() {
		if err != nil {
			out = Tensor{}
		}
	}()
	defer catch(&err) // runs first: a panic becomes err, then out is cleared
	if t == nil {
		return Tensor{}, fmt.Errorf("tensor %q: nil GoMLX tensor", name)
	}
	shape := t.Shape()
	if shape.IsTuple() {
		return Tensor{}, fmt.Errorf("tensor %q: tuples are not supported", name)
	}
	dtype, err := DTypeFromGoMLX(shape.DType)
	if err != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	size, err := byteSize(dtype, shape.Dimensions)
	if err != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	out = Tensor{Name: name, DType: dtype, Shape: slices.Clone(shape.Dimensions), Data: make([]byte, size)}
	if out.Shape == nil {
		out.Shape = []int{}
	}
	var convErr error
	if err := t.ConstFlatData(func(flat any) { convErr = encodeFlat(out.Data, flat, dtype.Size()) }); err != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	if convErr != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, convErr)
	}
	return out, out.Validate()
}

// ToGoMLX returns a new local GoMLX tensor with t's values.
func (t *Tensor) ToGoMLX() (out *tensors.Tensor, err error) {
	defer func() {
		if err != nil {
			out = nil
		}
	}()
	defer catch(&err)
	if err := t.Validate(); err != nil {
		return nil, err
	}
	g, err := t.DType.GoMLX()
	if err != nil {
		return nil, err
	}
	out = tensors.FromShape(shapes.Make(g, t.Shape...))
	var convErr error
	if err := out.MutableFlatData(func(flat any) { convErr = decodeFlat(flat, t.Data, t.DType.Size()) }); err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if convErr != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, convErr)
	}
	return out, nil
}

// encodeFlat writes a GoMLX flat slice as little-endian bytes. Common dtypes
// have typed loops; the rest (int8/16, uint16/32/64, float16, bfloat16 —
// the latter two are uint16 kinds holding the raw bits) go through reflect.
func encodeFlat(dst []byte, flat any, size int) error {
	switch s := flat.(type) {
	case []float32:
		return encodeTyped(dst, s, 4, putF32)
	case []float64:
		return encodeTyped(dst, s, 8, putF64)
	case []int32:
		return encodeTyped(dst, s, 4, putI32)
	case []int64:
		return encodeTyped(dst, s, 8, putI64)
	case []uint8:
		return encodeTyped(dst, s, 1, putU8)
	case []bool:
		return encodeTyped(dst, s, 1, func(b []byte, v bool) { b[0] = boolByte(v) })
	}
	rv := reflect.ValueOf(flat)
	if rv.Kind() != reflect.Slice || rv.Len()*size != len(dst) {
		return fmt.Errorf("unexpected GoMLX data %T for %d bytes", flat, len(dst))
	}
	for i := range rv.Len() {
		var u uint64
		switch v := rv.Index(i); v.Kind() {
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			u = uint64(v.Int())
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
			u = v.Uint()
		case reflect.Float32:
			u = uint64(math.Float32bits(float32(v.Float())))
		case reflect.Float64:
			u = math.Float64bits(v.Float())
		case reflect.Bool:
			u = uint64(boolByte(v.Bool()))
		default:
			return fmt.Errorf("unsupported GoMLX element type %s", v.Type())
		}
		putUint(dst[i*size:], size, u)
	}
	return nil
}

// decodeFlat fills a GoMLX flat slice from little-endian bytes.
func decodeFlat(flat any, src []byte, size int) error {
	switch s := flat.(type) {
	case []float32:
		return decodeTyped(s, src, 4, getF32)
	case []float64:
		return decodeTyped(s, src, 8, getF64)
	case []int32:
		return decodeTyped(s, src, 4, getI32)
	case []int64:
		return decodeTyped(s, src, 8, getI64)
	case []uint8:
		return decodeTyped(s, src, 1, getU8)
	case []bool:
		// Any non-zero byte is true: a Go bool must never hold another value.
		return decodeTyped(s, src, 1, func(b []byte) bool { return b[0] != 0 })
	}
	rv := reflect.ValueOf(flat)
	if rv.Kind() != reflect.Slice || rv.Len()*size != len(src) {
		return fmt.Errorf("unexpected GoMLX data %T for %d bytes", flat, len(src))
	}
	for i := range rv.Len() {
		u := getUint(src[i*size:], size)
		switch v := rv.Index(i); v.Kind() {
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			v.SetInt(signExtend(u, size))
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
			v.SetUint(u)
		case reflect.Float32:
			v.SetFloat(float64(math.Float32frombits(uint32(u))))
		case reflect.Float64:
			v.SetFloat(math.Float64frombits(u))
		case reflect.Bool:
			v.SetBool(u != 0)
		default:
			return fmt.Errorf("unsupported GoMLX element type %s", v.Type())
		}
	}
	return nil
}

func encodeTyped[T any](dst []byte, s []T, size int, put func([]byte, T)) error {
	if len(s)*size != len(dst) {
		return fmt.Errorf("GoMLX data has %d elements, want %d bytes", len(s), len(dst))
	}
	for i, v := range s {
		put(dst[i*size:], v)
	}
	return nil
}

func decodeTyped[T any](s []T, src []byte, size int, get func([]byte) T) error {
	if len(s)*size != len(src) {
		return fmt.Errorf("GoMLX tensor has %d elements, data has %d bytes", len(s), len(src))
	}
	for i := range s {
		s[i] = get(src[i*size:])
	}
	return nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func putUint(b []byte, size int, u uint64) {
	switch size {
	case 1:
		b[0] = byte(u)
	case 2:
		le.PutUint16(b, uint16(u))
	case 4:
		le.PutUint32(b, uint32(u))
	default:
		le.PutUint64(b, u)
	}
}

func getUint(b []byte, size int) uint64 {
	switch size {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(le.Uint16(b))
	case 4:
		return uint64(le.Uint32(b))
	default:
		return le.Uint64(b)
	}
}

func signExtend(u uint64, size int) int64 {
	shift := 64 - 8*size
	return int64(u<<shift) >> shift
}

// Where GoMLX keeps training state, by default (see the optimizers, train,
// train/metrics and context packages of GoMLX v0.26). Shipped weights leave
// these out; checkpoints for resuming training keep them.
var (
	// TrainingStateScopes: optimizer learning rate ("/optimizers"), Adam
	// moments and step ("/AdamOptimizer"), trainer state ("/trainer") and
	// running metrics ("/metrics").
	TrainingStateScopes = []string{"/optimizers", "/AdamOptimizer", "/trainer", "/metrics"}
	// TrainingStateNames: the global step and the random number generator
	// state, both in the root scope.
	TrainingStateNames = []string{"/global_step", "/" + context.RNGStateVariableName}
)

// Option selects which variables FromContext saves and LoadInto loads.
// Variables are named by their full path, e.g. "/conv1/weights".
type Option func(*selection)

type selection struct {
	skips []func(name string, trainable bool) bool
}

func newSelection(opts []Option) *selection {
	s := &selection{}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	return s
}

func (s *selection) skip(name string, trainable bool) bool {
	for _, fn := range s.skips {
		if fn(name, trainable) {
			return true
		}
	}
	return false
}

// SkipIf skips variables for which fn returns true.
func SkipIf(fn func(name string, trainable bool) bool) Option {
	return func(s *selection) { s.skips = append(s.skips, fn) }
}

// SkipScopes skips variables in the given absolute scopes or below them:
// "/optimizers" skips "/optimizers/lr" and "/optimizers/a/b", not
// "/optimizers2/x".
func SkipScopes(scopes ...string) Option {
	return SkipIf(func(name string, _ bool) bool {
		for _, scope := range scopes {
			if strings.HasPrefix(name, strings.TrimSuffix(scope, context.ScopeSeparator)+context.ScopeSeparator) {
				return true
			}
		}
		return false
	})
}

// SkipNames skips variables with exactly these full names.
func SkipNames(names ...string) Option {
	return SkipIf(func(name string, _ bool) bool { return slices.Contains(names, name) })
}

// TrainableOnly skips non-trainable variables. Careful: some are needed for
// inference (batch-norm running statistics); WithoutTrainingState is usually
// the right choice for shipped weights.
func TrainableOnly() Option {
	return SkipIf(func(_ string, trainable bool) bool { return !trainable })
}

// WithoutTrainingState skips GoMLX's default training-state locations
// (TrainingStateScopes, TrainingStateNames): what shipped weights should not
// carry.
func WithoutTrainingState() Option {
	return func(s *selection) {
		SkipScopes(TrainingStateScopes...)(s)
		SkipNames(TrainingStateNames...)(s)
	}
}

// FromContext copies the context's variables (all of them, unless options
// skip some) into a new File with the given manifest. Each variable is
// stored under its scope and name ("/conv1/weights"); non-trainable ones
// are listed in Manifest.NonTrainable, replacing what m had there. Every
// saved variable must have a value (initialize the context first).
func FromContext(ctx *context.Context, m Manifest, opts ...Option) (f *File, err error) {
	defer func() {
		if err != nil {
			f = nil
		}
	}()
	defer catch(&err)
	if ctx == nil {
		return nil, fmt.Errorf("weights from context: nil context")
	}
	sel := newSelection(opts)
	f = &File{Manifest: m}
	f.Manifest.NonTrainable = nil
	for v := range ctx.IterVariables() {
		name := v.ScopeAndName()
		if sel.skip(name, v.Trainable) {
			continue
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("weights from context: variable %q: %w", name, err)
		}
		t, err := FromGoMLX(name, value)
		if err != nil {
			return nil, fmt.Errorf("weights from context: %w", err)
		}
		f.Tensors = append(f.Tensors, t)
		if !v.Trainable {
			f.Manifest.NonTrainable = append(f.Manifest.NonTrainable, name)
		}
	}
	slices.SortFunc(f.Tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	slices.Sort(f.Manifest.NonTrainable)
	return f, nil
}

// LoadInto sets the context's variables from f (all tensors, unless options
// skip some). Missing variables are created, trainable unless listed in
// Manifest.NonTrainable; existing ones keep their trainable flag and must
// have the same dtype and shape. All tensors are converted and checked before
// any variable changes, so a mismatched file leaves the context untouched.
func (f *File) LoadInto(ctx *context.Context, opts ...Option) (err error) {
	defer catch(&err)
	if ctx == nil {
		return fmt.Errorf("loading weights: nil context")
	}
	sel := newSelection(opts)
	nonTrainable := map[string]bool{}
	for _, name := range f.Manifest.NonTrainable {
		nonTrainable[name] = true
	}
	type pending struct {
		scope, name string
		value       *tensors.Tensor
		existing    *context.Variable
	}
	var todo []pending
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if sel.skip(t.Name, !nonTrainable[t.Name]) {
			continue
		}
		scope, name := context.SplitScope(t.Name)
		if !strings.HasPrefix(scope, context.ScopeSeparator) || name == "" {
			return fmt.Errorf("loading weights: %w: %q is not an absolute GoMLX variable path like \"/scope/name\"",
				ErrInvalidName, t.Name)
		}
		value, err := t.ToGoMLX()
		if err != nil {
			return fmt.Errorf("loading weights: %w", err)
		}
		p := pending{scope: scope, name: name, value: value}
		if v := ctx.GetVariableByScopeAndName(scope, name); v != nil {
			if !v.Shape().Equal(value.Shape()) {
				return fmt.Errorf("loading weights: %w: variable %q is %s in the context but %s in the file",
					ErrShapeMismatch, t.Name, v.Shape(), value.Shape())
			}
			p.existing = v
		}
		todo = append(todo, p)
	}
	for _, p := range todo {
		if p.existing != nil {
			if err := p.existing.SetValue(p.value); err != nil {
				return fmt.Errorf("loading weights: variable %q: %w", context.JoinScope(p.scope, p.name), err)
			}
			continue
		}
		full := context.JoinScope(p.scope, p.name)
		ctx.InAbsPath(p.scope).Checked(false).VariableWithValue(p.name, p.value).SetTrainable(!nonTrainable[full])
	}
	return nil
}
