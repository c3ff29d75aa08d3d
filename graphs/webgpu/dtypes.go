package webgpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
)

// WGSL has 32-bit numbers only (f32, i32, u32; no 64-bit or 8-bit types, no bool in buffers), so on
// the device every value takes one 32-bit word: Int64 is kept as i32 (GoMLX uses it for step counters
// and indices; a value outside ±2³¹ would wrap, and none of mnistzip's graphs comes near), small
// integers widen to 32 bits and Bool is a u32 0 or 1. Uint64 only appears as the RNG state, which no
// kernel computes with except RNGBitGenerator: it is stored raw, two words a value. Float64 is refused.

// deviceType is the WGSL type of dtype's values on the device ("" for raw 64-bit words).
func deviceType(dtype dtypes.DType) (string, error) {
	switch dtype {
	case dtypes.Float32:
		return "f32", nil
	case dtypes.Int32, dtypes.Int64, dtypes.Int16, dtypes.Int8:
		return "i32", nil
	case dtypes.Uint32, dtypes.Uint16, dtypes.Uint8, dtypes.Bool:
		return "u32", nil
	case dtypes.Uint64:
		return "", nil
	}
	return "", fmt.Errorf("dtype %s is not supported on WebGPU (32-bit types, Int64 as 32 bits, Bool; Uint64 for the RNG state)", dtype)
}

// wordsPer is the number of 32-bit words a value of dtype takes on the device.
func wordsPer(dtype dtypes.DType) int {
	if dtype == dtypes.Uint64 {
		return 2
	}
	return 1
}

// flatInfo is the dtype and length of a flat Go slice.
func flatInfo(flat any) (dtypes.DType, int, error) {
	switch f := flat.(type) {
	case []float32:
		return dtypes.Float32, len(f), nil
	case []int32:
		return dtypes.Int32, len(f), nil
	case []int64:
		return dtypes.Int64, len(f), nil
	case []int16:
		return dtypes.Int16, len(f), nil
	case []int8:
		return dtypes.Int8, len(f), nil
	case []uint32:
		return dtypes.Uint32, len(f), nil
	case []uint16:
		return dtypes.Uint16, len(f), nil
	case []uint8:
		return dtypes.Uint8, len(f), nil
	case []bool:
		return dtypes.Bool, len(f), nil
	case []uint64:
		return dtypes.Uint64, len(f), nil
	}
	return dtypes.InvalidDType, 0, fmt.Errorf("values of type %T are not supported on WebGPU", flat)
}

// toDevice encodes a flat slice as the device's little-endian words.
func toDevice(flat any) ([]byte, error) {
	dtype, n, err := flatInfo(flat)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4*wordsPer(dtype)*n)
	put := func(i int, w uint32) { binary.LittleEndian.PutUint32(out[4*i:], w) }
	switch f := flat.(type) {
	case []float32:
		for i, v := range f {
			put(i, math.Float32bits(v))
		}
	case []int32:
		for i, v := range f {
			put(i, uint32(v))
		}
	case []int64:
		for i, v := range f {
			if v != int64(int32(v)) {
				return nil, fmt.Errorf("int64 value %d does not fit the device's 32 bits", v)
			}
			put(i, uint32(int32(v)))
		}
	case []int16:
		for i, v := range f {
			put(i, uint32(int32(v)))
		}
	case []int8:
		for i, v := range f {
			put(i, uint32(int32(v)))
		}
	case []uint32:
		for i, v := range f {
			put(i, v)
		}
	case []uint16:
		for i, v := range f {
			put(i, uint32(v))
		}
	case []uint8:
		for i, v := range f {
			put(i, uint32(v))
		}
	case []bool:
		for i, v := range f {
			if v {
				put(i, 1)
			}
		}
	case []uint64:
		for i, v := range f {
			put(2*i, uint32(v))
			put(2*i+1, uint32(v>>32))
		}
	}
	return out, nil
}

// fromDevice decodes the device's words into flat (whose length and type the caller checked).
func fromDevice(raw []byte, flat any) error {
	word := func(i int) uint32 { return binary.LittleEndian.Uint32(raw[4*i:]) }
	switch f := flat.(type) {
	case []float32:
		for i := range f {
			f[i] = math.Float32frombits(word(i))
		}
	case []int32:
		for i := range f {
			f[i] = int32(word(i))
		}
	case []int64:
		for i := range f {
			f[i] = int64(int32(word(i)))
		}
	case []int16:
		for i := range f {
			f[i] = int16(int32(word(i)))
		}
	case []int8:
		for i := range f {
			f[i] = int8(int32(word(i)))
		}
	case []uint32:
		for i := range f {
			f[i] = word(i)
		}
	case []uint16:
		for i := range f {
			f[i] = uint16(word(i))
		}
	case []uint8:
		for i := range f {
			f[i] = uint8(word(i))
		}
	case []bool:
		for i := range f {
			f[i] = word(i) != 0
		}
	case []uint64:
		for i := range f {
			f[i] = uint64(word(2*i)) | uint64(word(2*i+1))<<32
		}
	default:
		return fmt.Errorf("values of type %T are not supported on WebGPU", flat)
	}
	return nil
}
