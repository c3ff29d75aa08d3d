package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"
)

// Tensor is one named array: Data holds the elements in row-major order,
// little-endian, len(Data) == product(Shape) × DType.Size(). A nil or empty
// Shape is a scalar (one element).
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// metadataKey is reserved by safetensors for the string→string metadata map.
const metadataKey = "__metadata__"

// checkName rejects names the header cannot hold unambiguously: JSON would
// silently replace invalid UTF-8, changing the name (and the checksum).
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case name == metadataKey:
		return fmt.Errorf("%w: %q is reserved", ErrInvalidName, name)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidName, name)
	}
	return nil
}

// numElements returns the product of shape, refusing negative dimensions and
// products that overflow int (possible with hostile headers).
func numElements(shape []int) (int, error) {
	n, zero, overflow := 1, false, false
	for _, d := range shape {
		switch {
		case d < 0:
			return 0, fmt.Errorf("%w: shape %v", ErrNegativeDim, shape)
		case d == 0:
			zero = true
		case n > math.MaxInt/d:
			overflow = true
		default:
			n *= d
		}
	}
	if zero {
		return 0, nil
	}
	if overflow {
		return 0, fmt.Errorf("%w: shape %v has too many elements", ErrShapeMismatch, shape)
	}
	return n, nil
}

// byteSize returns the number of data bytes a tensor of this dtype and shape
// must have.
func byteSize(dtype DType, shape []int) (int, error) {
	if !dtype.Valid() {
		return 0, fmt.Errorf("%w: %q", ErrUnknownDType, string(dtype))
	}
	n, err := numElements(shape)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt/dtype.Size() {
		return 0, fmt.Errorf("%w: shape %v has too many bytes", ErrShapeMismatch, shape)
	}
	return n * dtype.Size(), nil
}

// Validate checks the name, dtype, shape and data length.
func (t *Tensor) Validate() error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	size, err := byteSize(t.DType, t.Shape)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if len(t.Data) != size {
		return fmt.Errorf("tensor %q: %w: %s%v needs %d bytes, has %d",
			t.Name, ErrShapeMismatch, t.DType, t.Shape, size, len(t.Data))
	}
	return nil
}

// NumElements returns the number of elements given by Shape.
func (t *Tensor) NumElements() (int, error) { return numElements(t.Shape) }

// fromValues builds a validated tensor, encoding values little-endian.
func fromValues[T any](name string, dtype DType, shape []int, values []T, put func([]byte, T)) (Tensor, error) {
	t := Tensor{Name: name, DType: dtype, Shape: slices.Clone(shape)}
	if t.Shape == nil {
		t.Shape = []int{}
	}
	n, err := numElements(shape)
	if err != nil {
		return Tensor{}, fmt.Errorf("tensor %q: %w", name, err)
	}
	if n != len(values) {
		return Tensor{}, fmt.Errorf("tensor %q: %w: shape %v needs %d values, got %d",
			name, ErrShapeMismatch, shape, n, len(values))
	}
	size := dtype.Size()
	t.Data = make([]byte, n*size)
	for i, v := range values {
		put(t.Data[i*size:], v)
	}
	return t, t.Validate()
}

// values decodes the data of a tensor of the wanted dtype.
func values[T any](t *Tensor, want DType, get func([]byte) T) ([]T, error) {
	if t.DType != want {
		return nil, fmt.Errorf("tensor %q has dtype %s, not %s", t.Name, t.DType, want)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	size := want.Size()
	out := make([]T, len(t.Data)/size)
	for i := range out {
		out[i] = get(t.Data[i*size:])
	}
	return out, nil
}

var le = binary.LittleEndian

func putF32(b []byte, v float32) { le.PutUint32(b, math.Float32bits(v)) }
func getF32(b []byte) float32    { return math.Float32frombits(le.Uint32(b)) }
func putF64(b []byte, v float64) { le.PutUint64(b, math.Float64bits(v)) }
func getF64(b []byte) float64    { return math.Float64frombits(le.Uint64(b)) }
func putI32(b []byte, v int32)   { le.PutUint32(b, uint32(v)) }
func getI32(b []byte) int32      { return int32(le.Uint32(b)) }
func putI64(b []byte, v int64)   { le.PutUint64(b, uint64(v)) }
func getI64(b []byte) int64      { return int64(le.Uint64(b)) }
func putU8(b []byte, v uint8)    { b[0] = v }
func getU8(b []byte) uint8       { return b[0] }

// FromFloat32 builds an F32 tensor; len(values) must equal the shape product.
func FromFloat32(name string, shape []int, values []float32) (Tensor, error) {
	return fromValues(name, Float32, shape, values, putF32)
}

// FromFloat64 builds an F64 tensor.
func FromFloat64(name string, shape []int, values []float64) (Tensor, error) {
	return fromValues(name, Float64, shape, values, putF64)
}

// FromInt32 builds an I32 tensor.
func FromInt32(name string, shape []int, values []int32) (Tensor, error) {
	return fromValues(name, Int32, shape, values, putI32)
}

// FromInt64 builds an I64 tensor.
func FromInt64(name string, shape []int, values []int64) (Tensor, error) {
	return fromValues(name, Int64, shape, values, putI64)
}

// FromUint8 builds a U8 tensor.
func FromUint8(name string, shape []int, values []uint8) (Tensor, error) {
	return fromValues(name, Uint8, shape, values, putU8)
}

// Float32s returns a copy of the values of an F32 tensor.
func (t *Tensor) Float32s() ([]float32, error) { return values(t, Float32, getF32) }

// Float64s returns a copy of the values of an F64 tensor.
func (t *Tensor) Float64s() ([]float64, error) { return values(t, Float64, getF64) }

// Int32s returns a copy of the values of an I32 tensor.
func (t *Tensor) Int32s() ([]int32, error) { return values(t, Int32, getI32) }

// Int64s returns a copy of the values of an I64 tensor.
func (t *Tensor) Int64s() ([]int64, error) { return values(t, Int64, getI64) }

// Uint8s returns a copy of the values of a U8 tensor.
func (t *Tensor) Uint8s() ([]uint8, error) { return values(t, Uint8, getU8) }
