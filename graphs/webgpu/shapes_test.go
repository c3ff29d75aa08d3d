package webgpu

import (
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/ml/train/losses"
)

// TestReduceShapes: GoMLX asks for a reduction over all axes with an empty axis list; a loss must
// come out a scalar.
func TestReduceShapes(t *testing.T) {
	g := NewGraph(&Backend{dev: &hostOnly{}}, "shapes")
	logits := Parameter(g, "logits", shapes.Make(dtypes.Float32, 4, 10))
	labels := Parameter(g, "labels", shapes.Make(dtypes.Int32, 4, 1))
	loss := ReduceAllMean(losses.SparseCategoricalCrossEntropyLogits([]*Node{labels}, []*Node{logits}))
	for _, c := range []struct {
		got  *Node
		want shapes.Shape
	}{
		{loss, shapes.Make(dtypes.Float32)},
		{ReduceAllSum(logits), shapes.Make(dtypes.Float32)},
		{ReduceMax(logits, -1), shapes.Make(dtypes.Float32, 4)},
		{ReduceSum(logits, 0), shapes.Make(dtypes.Float32, 10)},
	} {
		if !c.got.Shape().Equal(c.want) {
			t.Errorf("got %s, want %s", c.got.Shape(), c.want)
		}
	}
}
