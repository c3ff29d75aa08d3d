package models

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

const dtypesFloat64 = dtypes.Float64

func shapeF64(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float64, dims...) }
