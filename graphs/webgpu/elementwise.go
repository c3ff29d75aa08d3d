package webgpu

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/shapeinference"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// unaryExpr is the WGSL of a unary op on x of device type t ("" when the op does not apply to t).
func unaryExpr(op backends.OpType, t string) string {
	isF := t == "f32"
	switch op {
	case backends.OpTypeNeg:
		if t == "u32" {
			return "0u - x"
		}
		return "-x"
	case backends.OpTypeAbs:
		return "abs(x)"
	case backends.OpTypeSign:
		return fmt.Sprintf("select(select(%[1]s(0), %[1]s(1), x > %[1]s(0)), %[1]s(0) - %[1]s(1), x < %[1]s(0))", t)
	case backends.OpTypeBitwiseNot:
		if !isF {
			return "~x"
		}
	case backends.OpTypeLogicalNot:
		if t == "u32" {
			return "1u - x"
		}
	}
	if !isF {
		return ""
	}
	switch op {
	case backends.OpTypeExp:
		return "exp(x)"
	case backends.OpTypeExpm1:
		return "select(exp(x) - 1.0, x + 0.5 * x * x, abs(x) < 1e-4)"
	case backends.OpTypeLog:
		return "log(x)"
	case backends.OpTypeLog1p:
		return "select(log(1.0 + x), x - 0.5 * x * x, abs(x) < 1e-4)"
	case backends.OpTypeSqrt:
		return "sqrt(x)"
	case backends.OpTypeRsqrt:
		return "inverseSqrt(x)"
	case backends.OpTypeCos:
		return "cos(x)"
	case backends.OpTypeSin:
		return "sin(x)"
	case backends.OpTypeTanh:
		return "tanh(x)"
	case backends.OpTypeLogistic:
		return "1.0 / (1.0 + exp(-x))"
	case backends.OpTypeFloor:
		return "floor(x)"
	case backends.OpTypeCeil:
		return "ceil(x)"
	case backends.OpTypeRound: // XLA rounds halves away from zero; WGSL's round() goes to even
		return "sign(x) * floor(abs(x) + 0.5)"
	case backends.OpTypeErf: // Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7
		return "sign(x) * (1.0 - (((((1.061405429 * (1.0 / (1.0 + 0.3275911 * abs(x))) - 1.453152027) * (1.0 / (1.0 + 0.3275911 * abs(x))) + 1.421413741) * (1.0 / (1.0 + 0.3275911 * abs(x))) - 0.284496736) * (1.0 / (1.0 + 0.3275911 * abs(x))) + 0.254829592) * (1.0 / (1.0 + 0.3275911 * abs(x)))) * exp(-x * x))"
	}
	return ""
}

// boolUnaryExpr: ops on floats with a Bool result.
func boolUnaryExpr(op backends.OpType) string {
	switch op {
	case backends.OpTypeIsFinite:
		return "select(0u, 1u, (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u)"
	case backends.OpTypeIsNaN:
		return "select(0u, 1u, (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u && (bitcast<u32>(x) & 0x7fffffu) != 0u)"
	}
	return ""
}

func (b *Builder) unary(op backends.OpType, x backends.Op) (backends.Op, error) {
	n, err := b.nodeOf(op.String(), x)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.UnaryOp(op, n.shape)
	if err != nil {
		return nil, err
	}
	t, err := deviceType(n.shape.DType)
	if err != nil || t == "" {
		return nil, fmt.Errorf("webgpu %s: dtype %s not supported", op, n.shape.DType)
	}
	outT, _ := deviceType(shape.DType)
	expr := unaryExpr(op, t)
	if shape.DType == dtypes.Bool && n.shape.DType != dtypes.Bool {
		expr = boolUnaryExpr(op)
	}
	if expr == "" {
		return nil, fmt.Errorf("webgpu %s on %s: %w", op, n.shape.DType, errNotImplemented)
	}
	return b.elementwise(op, shape, elementwise{expr: expr, outType: outT, inTypes: []string{t}}, n)
}

// elementwise adds a node computing e from operands, choosing each operand's mode from its shape.
func (b *Builder) elementwise(op backends.OpType, shape shapes.Shape, e elementwise, operands ...*node) (*node, error) {
	out, err := b.add(op, shape, operands...)
	if err != nil {
		return nil, err
	}
	e.dims = shape.Dimensions
	e.modes = make([]mode, len(operands))
	e.strides = make([][]int, len(operands))
	for k, o := range operands {
		switch {
		case o.shape.Size() == shape.Size() && o.shape.Rank() == shape.Rank():
			e.modes[k] = same
		case o.shape.IsScalar() || o.shape.Size() == 1:
			e.modes[k] = scalar
		default:
			e.modes[k] = general
			// Rank equals the output's (shape inference), a dim of 1 is broadcast: stride 0.
			s := strides(o.shape.Dimensions)
			for d, dim := range o.shape.Dimensions {
				if dim == 1 && shape.Dimensions[d] != 1 {
					s[d] = 0
				}
			}
			e.strides[k] = s
		}
	}
	out.ew = &e
	out.dispatches = []dispatch{{source: e.source(), reads: operands, params: u32s(shape.Size()), threads: shape.Size()}}
	return out, nil
}

// binaryExpr is the WGSL of a binary op on x, y of device type t.
func binaryExpr(op backends.OpType, t string) string {
	isF := t == "f32"
	switch op {
	case backends.OpTypeAdd:
		return "x + y"
	case backends.OpTypeSub:
		return "x - y"
	case backends.OpTypeMul:
		return "x * y"
	case backends.OpTypeDiv:
		return "x / y"
	case backends.OpTypeRem:
		return "x % y"
	case backends.OpTypeMax:
		return "max(x, y)"
	case backends.OpTypeMin:
		return "min(x, y)"
	case backends.OpTypeBitwiseAnd, backends.OpTypeLogicalAnd:
		if !isF {
			return "x & y"
		}
	case backends.OpTypeBitwiseOr, backends.OpTypeLogicalOr:
		if !isF {
			return "x | y"
		}
	case backends.OpTypeBitwiseXor, backends.OpTypeLogicalXor:
		if !isF {
			return "x ^ y"
		}
	case backends.OpTypeShiftLeft:
		if !isF {
			return "x << u32(y)"
		}
	case backends.OpTypeShiftRightLogical:
		if !isF {
			return fmt.Sprintf("%s(u32(x) >> u32(y))", t)
		}
	case backends.OpTypeShiftRightArithmetic:
		if !isF {
			return fmt.Sprintf("%s(i32(x) >> u32(y))", t)
		}
	case backends.OpTypePow:
		if isF {
			// WGSL's pow is undefined for x < 0; GoMLX's graphs raise positive bases (Adam's betas)
			// or square: integral exponents of negative bases keep their sign rule here.
			return "select(pow(abs(x), y) * select(1.0, -1.0, fract(y * 0.5) != 0.0), pow(x, y), x >= 0.0 || fract(y) != 0.0)"
		}
	}
	return ""
}

func comparisonExpr(op backends.OpType) string {
	c := map[backends.OpType]string{
		backends.OpTypeEqual: "==", backends.OpTypeNotEqual: "!=",
		backends.OpTypeGreaterThan: ">", backends.OpTypeGreaterOrEqual: ">=",
		backends.OpTypeLessThan: "<", backends.OpTypeLessOrEqual: "<=",
		backends.OpTypeEqualTotalOrder: "==", backends.OpTypeNotEqualTotalOrder: "!=",
		backends.OpTypeGreaterThanTotalOrder: ">", backends.OpTypeGreaterOrEqualTotalOrder: ">=",
		backends.OpTypeLessThanTotalOrder: "<", backends.OpTypeLessOrEqualTotalOrder: "<=",
	}[op]
	if c == "" {
		return ""
	}
	return "select(0u, 1u, x " + c + " y)"
}

func (b *Builder) binary(op backends.OpType, lhs, rhs backends.Op) (backends.Op, error) {
	ns, err := b.nodesOf(op.String(), lhs, rhs)
	if err != nil {
		return nil, err
	}
	var shape shapes.Shape
	expr := comparisonExpr(op)
	if expr != "" {
		shape, err = shapeinference.ComparisonOp(op, ns[0].shape, ns[1].shape)
	} else {
		shape, err = shapeinference.BinaryOp(op, ns[0].shape, ns[1].shape)
	}
	if err != nil {
		return nil, err
	}
	t, err := deviceType(ns[0].shape.DType)
	if err != nil || t == "" {
		return nil, fmt.Errorf("webgpu %s: dtype %s not supported", op, ns[0].shape.DType)
	}
	if expr == "" {
		expr = binaryExpr(op, t)
	}
	if expr == "" {
		return nil, fmt.Errorf("webgpu %s on %s: %w", op, ns[0].shape.DType, errNotImplemented)
	}
	outT, _ := deviceType(shape.DType)
	return b.elementwise(op, shape, elementwise{expr: expr, outType: outT, inTypes: []string{t, t}}, ns...)
}

func (b *Builder) Where(condition, onTrue, onFalse backends.Op) (backends.Op, error) {
	ns, err := b.nodesOf("Where", condition, onTrue, onFalse)
	if err != nil {
		return nil, err
	}
	shape, err := shapeinference.WhereOp(ns[0].shape, ns[1].shape, ns[2].shape)
	if err != nil {
		return nil, err
	}
	t, err := deviceType(shape.DType)
	if err != nil || t == "" {
		return nil, fmt.Errorf("webgpu Where: dtype %s not supported", shape.DType)
	}
	return b.elementwise(backends.OpTypeWhere, shape,
		elementwise{expr: "select(z, y, x != 0u)", outType: t, inTypes: []string{"u32", t, t}}, ns...)
}

func (b *Builder) Clamp(lo, x, hi backends.Op) (backends.Op, error) {
	ns, err := b.nodesOf("Clamp", lo, x, hi)
	if err != nil {
		return nil, err
	}
	shape := ns[1].shape
	for _, o := range []*node{ns[0], ns[2]} {
		if o.shape.DType != shape.DType || !(o.shape.IsScalar() || o.shape.Equal(shape)) {
			return nil, fmt.Errorf("webgpu Clamp: bounds %s for %s", o.shape, shape)
		}
	}
	t, err := deviceType(shape.DType)
	if err != nil || t == "" {
		return nil, fmt.Errorf("webgpu Clamp: dtype %s not supported", shape.DType)
	}
	return b.elementwise(backends.OpTypeClamp, shape,
		elementwise{expr: "min(max(y, x), z)", outType: t, inTypes: []string{t, t, t}}, ns...)
}

// convertExpr converts x of dtype from to dtype to.
func convertExpr(from, to dtypes.DType) (string, error) {
	ft, err := deviceType(from)
	if err != nil || ft == "" {
		return "", fmt.Errorf("webgpu ConvertDType from %s: not supported", from)
	}
	tt, err := deviceType(to)
	if err != nil || tt == "" {
		return "", fmt.Errorf("webgpu ConvertDType to %s: not supported", to)
	}
	switch {
	case to == dtypes.Bool:
		return fmt.Sprintf("select(0u, 1u, x != %s(0))", ft), nil
	case ft == tt:
		// Same device type: narrowing integer conversions wrap as in Go.
		switch to {
		case dtypes.Int8:
			return "(x << 24u) >> 24u", nil
		case dtypes.Int16:
			return "(x << 16u) >> 16u", nil
		case dtypes.Uint8:
			return "x & 0xffu", nil
		case dtypes.Uint16:
			return "x & 0xffffu", nil
		}
		return "x", nil
	}
	return fmt.Sprintf("%s(x)", tt), nil
}

func (b *Builder) ConvertDType(x backends.Op, dtype dtypes.DType) (backends.Op, error) {
	n, err := b.nodeOf("ConvertDType", x)
	if err != nil {
		return nil, err
	}
	expr, err := convertExpr(n.shape.DType, dtype)
	if err != nil {
		return nil, err
	}
	shape := n.shape.Clone()
	shape.DType = dtype
	ft, _ := deviceType(n.shape.DType)
	tt, _ := deviceType(dtype)
	return b.elementwise(backends.OpTypeConvertDType, shape, elementwise{expr: expr, outType: tt, inTypes: []string{ft}}, n)
}
