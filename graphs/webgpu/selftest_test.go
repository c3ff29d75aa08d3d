package webgpu

import (
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
)

// TestCheckOpsHarness runs the browser's op checks natively with the engine against stock simplego
// (which has no MaxPool gradient or padding: those cases must fail with an error, not pass), and the
// finite-difference check and the training check on the engine alone: the checks themselves work, so
// a pass in the browser means the WebGPU backend agrees.
func TestCheckOpsHarness(t *testing.T) {
	eng, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range CheckOps(eng, eng) {
		if !r.OK || r.MaxError != 0 {
			t.Errorf("%s on the engine against itself: %+v", r.Name, r)
		}
	}
	stock, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range CheckOps(stock, eng) {
		if !r.OK {
			failed++
			t.Logf("simplego against the engine: %s: error %g %s", r.Name, r.MaxError, r.Error)
		}
	}
	if failed == 0 {
		t.Error("every case passed on stock simplego, which lacks the engine's MaxPool gradient: the checks cannot fail")
	}
	if g := GradientCheck(eng); !g.OK {
		t.Errorf("finite differences on the engine: %+v", g)
	}
	train, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	r, err := TrainCheck(eng, eng, "tiny", train, train, 30, 8, 200)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Agree != r.Compared || r.MaxLogitDiff != 0 || !(r.LossLast < r.LossFirst) {
		t.Errorf("the engine against itself: %+v", r)
	}
}
