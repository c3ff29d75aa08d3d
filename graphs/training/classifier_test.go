package training

import (
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"
)

// TestClassifierAccuracyRises: a short CNN run on 800 real digits must classify the 200 held-out
// ones far above chance (10%).
func TestClassifierAccuracyRises(t *testing.T) {
	train, val := testData(t)
	task := cnnTask(1)
	backend := testBackend(t)
	res, err := Run(backend, task, train, val, Options{Epochs: 1, Batch: 50, LR: 2e-3, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := context.ExecOnce(backend, res.Ctx.Reuse(), func(ctx *context.Context, x *Node) *Node {
		return ArgMax(cnnLogits(ctx, Reshape(x, -1, 28, 28, 1)), -1)
	}, tensors.FromFlatDataAndDimensions(val.Images, val.N, 784))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range tensors.MustCopyFlatData[int32](out) {
		if p == val.Labels[i] {
			correct++
		}
	}
	acc := float64(correct) / float64(val.N)
	t.Logf("CNN after 1 epoch on 800 digits: %.1f%% on 200 held-out digits", 100*acc)
	if acc < 0.5 {
		t.Errorf("accuracy %.1f%%: training does not work", 100*acc)
	}
}
