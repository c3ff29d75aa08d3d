package engine

import (
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestPoolNeverBlocks runs a graph of many independent small matrix products (the shape of graph that
// deadlocked simplego's worker pool while training the VAE) and fails if it does not finish.
func TestPoolNeverBlocks(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		exec, err := NewExec(testBackend, func(x *Node) *Node {
			sum := ScalarZero(x.Graph(), x.DType())
			for i := range 32 {
				y := Dot(AddScalar(x, float64(i)), x) // [8,8]·[8,8], each its own node
				sum = Add(sum, ReduceAllSum(y))
			}
			return sum
		})
		if err != nil {
			done <- err
			return
		}
		x := tensors.FromFlatDataAndDimensions(make([]float32, 64), 8, 8)
		for range 50 {
			if _, err := exec.Exec(x); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("graph of parallel small matrix products did not finish in 60 s: simplego's worker pool deadlocked")
	}
}
