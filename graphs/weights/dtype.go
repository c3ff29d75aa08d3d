package weights

// DType is a tensor element type, spelled as in the safetensors header.
type DType string

// Supported dtypes. Data is always little-endian; BOOL is one byte per value.
const (
	Bool     DType = "BOOL"
	Uint8    DType = "U8"
	Int8     DType = "I8"
	Int16    DType = "I16"
	Uint16   DType = "U16"
	Int32    DType = "I32"
	Uint32   DType = "U32"
	Int64    DType = "I64"
	Uint64   DType = "U64"
	Float16  DType = "F16"
	BFloat16 DType = "BF16"
	Float32  DType = "F32"
	Float64  DType = "F64"
)

var dtypeSizes = map[DType]int{
	Bool: 1, Uint8: 1, Int8: 1,
	Int16: 2, Uint16: 2, Float16: 2, BFloat16: 2,
	Int32: 4, Uint32: 4, Float32: 4,
	Int64: 8, Uint64: 8, Float64: 8,
}

// Size returns the size in bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is one of the supported dtypes.
func (d DType) Valid() bool { return d.Size() > 0 }

// String implements fmt.Stringer.
func (d DType) String() string { return string(d) }
