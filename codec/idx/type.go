package idx

import "fmt"

// Type is an IDX element type, stored as the third byte of the magic.
type Type byte

// The six element types IDX defines. Multi-byte types are big-endian.
const (
	Ubyte   Type = 0x08 // unsigned byte
	Sbyte   Type = 0x09 // signed byte
	Int16   Type = 0x0B // 2 bytes
	Int32   Type = 0x0C // 4 bytes
	Float32 Type = 0x0D // 4 bytes, IEEE 754
	Float64 Type = 0x0E // 8 bytes, IEEE 754
)

// Types lists every valid Type in type-code order.
func Types() []Type { return []Type{Ubyte, Sbyte, Int16, Int32, Float32, Float64} }

// Valid reports whether t is one of the six IDX types.
func (t Type) Valid() bool { return t.Size() != 0 }

// Size is the size of one element in bytes, or 0 for an invalid Type.
func (t Type) Size() int {
	switch t {
	case Ubyte, Sbyte:
		return 1
	case Int16:
		return 2
	case Int32, Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

// String returns "ubyte", "sbyte", "int16", "int32", "float32" or
// "float64", or "Type(0x..)" for an invalid code.
func (t Type) String() string {
	switch t {
	case Ubyte:
		return "ubyte"
	case Sbyte:
		return "sbyte"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("Type(0x%02x)", byte(t))
}
