package evaluate

import (
	"math"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
)

// TestCapsNetPerturbations: the capsule-dimension grid decodes the winning capsule itself at
// delta 0 (it equals the network's own reconstruction) and something else at the other deltas; the
// classifier view of the same weights predicts what the capsule view predicts.
func TestCapsNetPerturbations(t *testing.T) {
	backend, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	set, err := mnist.LoadFiles("../../testdata/t10k-1000-images-idx3-ubyte", "../../testdata/t10k-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	data := training.FromSet(set, 0, 64)
	task := training.CapsNetTask(nil, models.CapsNetSmall, 2)
	res, err := training.Run(backend, task, data, nil, training.Options{Epochs: 1, Batch: 16, LR: 1e-3, Seed: 1, MaxSteps: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := training.FinalWeights(res, task, training.Options{Epochs: 1, Batch: 16, LR: 1e-3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCapsNet(backend, f, models.CapsNetSmall)
	if err != nil {
		t.Fatal(err)
	}
	img := data.Images[:784]
	r, err := c.Run(img, 1)
	if err != nil {
		t.Fatal(err)
	}
	deltas := []float32{-0.25, 0, 0.25}
	rows, err := c.Perturbations(img, deltas)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != c.Config.DigitDim || len(rows[0]) != len(deltas) {
		t.Fatalf("grid %d × %d, want %d × %d", len(rows), len(rows[0]), c.Config.DigitDim, len(deltas))
	}
	diff := func(a, b []float32) (m float64) {
		for i := range a {
			m = math.Max(m, math.Abs(float64(a[i]-b[i])))
		}
		return m
	}
	for d := range rows {
		if e := diff(rows[d][1], r.Reconstruction); e > 1e-5 {
			t.Errorf("dimension %d at delta 0 differs from the reconstruction by %g", d, e)
		}
	}
	if diff(rows[0][0], rows[0][2]) == 0 {
		t.Error("moving a capsule dimension changes nothing")
	}
	clf, err := LoadClassifier(backend, f, training.CapsNetScores(models.CapsNetSmall))
	if err != nil {
		t.Fatal(err)
	}
	l, err := clf.Logits(training.FromSet(set, 0, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for k := range 10 {
		if l.Values[k] > l.Values[best] {
			best = k
		}
	}
	if int32(best) != r.Predicted[0] {
		t.Errorf("classifier predicts %d, capsule view %d", best, r.Predicted[0])
	}
}
