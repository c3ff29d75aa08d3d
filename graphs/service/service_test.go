package service

import (
	"math"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models/shipped"
	"github.com/mnistzip/mnistzip/graphs/training"
)

func newService(t *testing.T) *Service {
	b, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	return New(b)
}

func digits(t *testing.T, n int) ([]float32, []int32) {
	set, err := mnist.LoadFiles("../../testdata/t10k-1000-images-idx3-ubyte", "../../testdata/t10k-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	d := training.FromSet(set, 0, n)
	return d.Images, d.Labels
}

// TestAutoencoderCalls: the shipped autoencoder loads from bytes and reconstructs, encodes and
// decodes with the right sizes; wrong names, kinds and sizes are errors.
func TestAutoencoderCalls(t *testing.T) {
	s := newService(t)
	info, err := s.Load("ae", shipped.AE)
	if err != nil {
		t.Fatal(err)
	}
	if info.Model != "ae" || info.CodeSize != 32 || info.Classifier {
		t.Errorf("info %+v", info)
	}
	images, _ := digits(t, 3)
	recon, err := s.Reconstruct("ae", images, 3)
	if err != nil || len(recon) != 3*784 {
		t.Fatalf("reconstruct: %d values, %v", len(recon), err)
	}
	var se float64
	for i, v := range recon {
		se += float64((v - images[i]) * (v - images[i]))
	}
	if mse := se / float64(len(recon)); mse > 0.02 {
		t.Errorf("reconstruction MSE %.4f", mse)
	}
	codes, err := s.Encode("ae", images, 3)
	if err != nil || len(codes) != 96 {
		t.Fatalf("encode: %d values, %v", len(codes), err)
	}
	if out, err := s.Decode("ae", codes, 3); err != nil || len(out) != 3*784 {
		t.Fatalf("decode: %v", err)
	}
	if _, err := s.Reconstruct("ae", images[:100], 1); err == nil {
		t.Error("a partial image accepted")
	}
	if _, err := s.Classify("ae", images, 3); err == nil {
		t.Error("an autoencoder classified")
	}
	if _, err := s.Reconstruct("nope", images, 3); err == nil {
		t.Error("an unknown name accepted")
	}
	if _, err := s.Load("bad", []byte("not weights")); err == nil {
		t.Error("garbage loaded")
	}
}

// TestTrainAndStop: a run reports falling progress, stops within one step when asked, and leaves
// the model trained so far loaded and usable; a trained CNN gives probabilities that sum to 1.
func TestTrainAndStop(t *testing.T) {
	s := newService(t)
	images, labels := digits(t, 300)
	var reports []Progress
	info, err := s.Train("mine", TrainSpec{Model: "dense", Epochs: 5, Batch: 50, LR: 1e-3, Seed: 1, Val: 50}, images, labels, func(p Progress) {
		reports = append(reports, p)
		if p.Epoch == 2 && p.Step == 2 {
			s.Stop()
		}
	})
	if err != nil || !info.Stopped {
		t.Fatalf("want a stopped run, got %v (stopped %v)", err, info.Stopped)
	}
	last := reports[len(reports)-1]
	if last.Epoch != 2 || last.Step != 2 {
		t.Errorf("stopped at epoch %d step %d, want 2/2", last.Epoch, last.Step)
	}
	if first := reports[0]; !(last.Loss < first.Loss) || first.MsPerStep <= 0 {
		t.Errorf("loss %.4f → %.4f, %.1f ms/step", first.Loss, last.Loss, first.MsPerStep)
	}
	if info.Model != "dense" {
		t.Errorf("info %+v", info)
	}
	if _, err := s.Reconstruct("mine", images[:784], 1); err != nil {
		t.Error(err)
	}
	if _, err := s.Weights("mine"); err != nil {
		t.Error(err)
	}
	if _, err := s.Train("cnn", TrainSpec{Model: "cnn", Epochs: 1, Batch: 50, Seed: 1}, images, labels, nil); err != nil {
		t.Fatal(err)
	}
	probs, err := s.Classify("cnn", images[:2*784], 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		sum := 0.0
		for _, p := range probs[i*10 : (i+1)*10] {
			sum += p
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("probabilities of image %d sum to %g", i, sum)
		}
	}
}
