package webgpu

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/mnistzip/mnistzip/graphs/engine"
)

// BackendName is the name the backend registers under with GoMLX (graphs.NewBackend("webgpu")).
const BackendName = "webgpu"

// gpu is what the backend needs of a device: the browser's WebGPU (device_js.go, exec_js.go).
type gpu interface {
	compile(b *Builder, outputs []*node) (backends.Executable, error)
	upload(flat any, shape shapes.Shape) (backends.Buffer, error)
	download(buf backends.Buffer, flat any) error
	release(buf backends.Buffer) error
	shapeOf(buf backends.Buffer) (shapes.Shape, error)
	describe() string
}

var errNoDevice = errors.New("webgpu: no device (graphs build here, only the browser runs them)")

// Backend runs GoMLX graphs on a WebGPU device. Its builders go through the pure-Go engine's
// lowerings (engine.Lowering), so convolutions, padding, pooling gradients and batch norm are the
// same compositions of primitive ops on both, and so are the gradients (LoweredByEngine).
type Backend struct {
	dev       gpu // nil: build graphs only (native tests)
	mu        sync.Mutex
	finalized bool
}

var _ backends.Backend = (*Backend)(nil)

// NewGraphsOnly is a backend with no device: graphs build (every op and kernel is checked) but do not
// compile. Native tests use it; the browser opens a device with Open and New.
func NewGraphsOnly() *Backend {
	engine.Install()
	return &Backend{}
}

func (b *Backend) Name() string   { return BackendName }
func (b *Backend) String() string { return BackendName }
func (b *Backend) Description() string {
	if b.dev == nil {
		return "mnistzip WebGPU backend (no device)"
	}
	return "mnistzip WebGPU backend: " + b.dev.describe()
}
func (b *Backend) NumDevices() int                                             { return 1 }
func (b *Backend) DeviceDescription(backends.DeviceNum) string                 { return b.Description() }
func (b *Backend) LoweredByEngine() bool                                       { return true }
func (b *Backend) HasSharedBuffers() bool                                      { return false }
func (b *Backend) BufferDeviceNum(backends.Buffer) (backends.DeviceNum, error) { return 0, nil }

func (b *Backend) Capabilities() backends.Capabilities {
	c := backends.Capabilities{Operations: map[backends.OpType]bool{}, DTypes: map[dtypes.DType]bool{}}
	for _, op := range implementedOps {
		c.Operations[op] = true
	}
	for _, d := range []dtypes.DType{dtypes.Float32, dtypes.Int32, dtypes.Int64, dtypes.Int16, dtypes.Int8,
		dtypes.Uint32, dtypes.Uint16, dtypes.Uint8, dtypes.Bool, dtypes.Uint64} {
		c.DTypes[d] = true
	}
	return c
}

func (b *Backend) Builder(name string) backends.Builder {
	var compile func(*Builder, []*node) (backends.Executable, error)
	if b.dev != nil {
		compile = b.dev.compile
	}
	return engine.Lowering(NewBuilder(name, compile))
}

func (b *Backend) Finalize() {
	b.mu.Lock()
	b.finalized = true
	b.mu.Unlock()
}

func (b *Backend) IsFinalized() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.finalized
}

func (b *Backend) BufferFinalize(buf backends.Buffer) error {
	if b.dev == nil {
		return errNoDevice
	}
	return b.dev.release(buf)
}

func (b *Backend) BufferShape(buf backends.Buffer) (shapes.Shape, error) {
	if b.dev == nil {
		return shapes.Invalid(), errNoDevice
	}
	return b.dev.shapeOf(buf)
}

func (b *Backend) BufferToFlatData(buf backends.Buffer, flat any) error {
	if b.dev == nil {
		return errNoDevice
	}
	return b.dev.download(buf, flat)
}

func (b *Backend) BufferFromFlatData(_ backends.DeviceNum, flat any, shape shapes.Shape) (backends.Buffer, error) {
	if b.dev == nil {
		return nil, errNoDevice
	}
	dtype, n, err := flatInfo(flat)
	if err != nil {
		return nil, fmt.Errorf("webgpu: %w", err)
	}
	if dtype != shape.DType || n != shape.Size() {
		return nil, fmt.Errorf("webgpu: %d values of %s for shape %s", n, dtype, shape)
	}
	return b.dev.upload(flat, shape)
}

func (b *Backend) NewSharedBuffer(backends.DeviceNum, shapes.Shape) (backends.Buffer, any, error) {
	return nil, nil, errors.New("webgpu: no shared buffers (GPU memory)")
}

func (b *Backend) BufferData(backends.Buffer) (any, error) {
	return nil, errors.New("webgpu: no shared buffers (GPU memory)")
}

func (b *Backend) BufferCopyToDevice(backends.Buffer, backends.DeviceNum) (backends.Buffer, error) {
	return nil, errors.New("webgpu: one device only")
}

// implementedOps are the ops the builder runs itself plus those the engine lowers to them.
var implementedOps = []backends.OpType{
	backends.OpTypeParameter, backends.OpTypeConstant, backends.OpTypeIdentity, backends.OpTypeReshape,
	backends.OpTypeAbs, backends.OpTypeNeg, backends.OpTypeSign, backends.OpTypeBitwiseNot, backends.OpTypeLogicalNot,
	backends.OpTypeExp, backends.OpTypeExpm1, backends.OpTypeLog, backends.OpTypeLog1p, backends.OpTypeSqrt,
	backends.OpTypeRsqrt, backends.OpTypeCos, backends.OpTypeSin, backends.OpTypeTanh, backends.OpTypeLogistic,
	backends.OpTypeFloor, backends.OpTypeCeil, backends.OpTypeRound, backends.OpTypeErf, backends.OpTypeIsFinite,
	backends.OpTypeIsNaN,
	backends.OpTypeAdd, backends.OpTypeSub, backends.OpTypeMul, backends.OpTypeDiv, backends.OpTypeRem,
	backends.OpTypeMax, backends.OpTypeMin, backends.OpTypeBitwiseAnd, backends.OpTypeBitwiseOr,
	backends.OpTypeBitwiseXor, backends.OpTypeLogicalAnd, backends.OpTypeLogicalOr, backends.OpTypeLogicalXor,
	backends.OpTypeShiftLeft, backends.OpTypeShiftRightLogical, backends.OpTypeShiftRightArithmetic, backends.OpTypePow,
	backends.OpTypeEqual, backends.OpTypeNotEqual, backends.OpTypeGreaterThan, backends.OpTypeGreaterOrEqual,
	backends.OpTypeLessThan, backends.OpTypeLessOrEqual, backends.OpTypeEqualTotalOrder,
	backends.OpTypeNotEqualTotalOrder, backends.OpTypeGreaterThanTotalOrder,
	backends.OpTypeGreaterOrEqualTotalOrder, backends.OpTypeLessThanTotalOrder, backends.OpTypeLessOrEqualTotalOrder,
	backends.OpTypeWhere, backends.OpTypeClamp, backends.OpTypeConvertDType,
	backends.OpTypeTranspose, backends.OpTypeBroadcastInDim, backends.OpTypeBroadcast, backends.OpTypeSlice,
	backends.OpTypeConcatenate, backends.OpTypeIota,
	backends.OpTypeReduceSum, backends.OpTypeReduceProduct, backends.OpTypeReduceMax, backends.OpTypeReduceMin,
	backends.OpTypeReduceLogicalAnd, backends.OpTypeReduceLogicalOr, backends.OpTypeReduceBitwiseAnd,
	backends.OpTypeReduceBitwiseOr, backends.OpTypeArgMinMax, backends.OpTypeReduceWindow,
	backends.OpTypeGather, backends.OpTypeScatterSum, backends.OpTypeDotGeneral, backends.OpTypeDot,
	backends.OpTypeRNGBitGenerator,
	// Lowered by the engine:
	backends.OpTypeConvGeneral, backends.OpTypePad, backends.OpTypeReverse, backends.OpTypeSelectAndScatterMax,
	backends.OpTypeSelectAndScatterMin, backends.OpTypeBatchNormForTraining, backends.OpTypeBatchNormForInference,
	backends.OpTypeBatchNormGradient,
}
