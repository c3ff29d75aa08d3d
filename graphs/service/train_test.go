package service

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrainOnSplits is the browser trainer's path: the digits are handed over once as IDX files, a
// tiny CNN trains on one split while test probes on the other report rising accuracy (every few
// steps on a subset, the whole split with its confusion matrix at the epoch's end); a stop keeps its
// state and a resume finishes the run; the result is temperature-scaled on the validation split.
func TestTrainOnSplits(t *testing.T) {
	s := newService(t)
	train, err := s.SetSplit("train", readFile(t, "train-1000-images-idx3-ubyte"), readFile(t, "train-1000-labels-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := s.SetSplit("test", readFile(t, "t10k-1000-images-idx3-ubyte"), readFile(t, "t10k-1000-labels-idx1-ubyte"))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, c := range train.Histogram {
		sum += c
	}
	if train.N != 1000 || test.N != 1000 || sum != 1000 {
		t.Fatalf("splits %+v %+v", train, test)
	}
	spec := TrainSpec{Model: "cnn", Size: "tiny", Epochs: 2, Batch: 25, LR: 3e-3, Seed: 1, Val: 200,
		Data: "train", Test: "test", ProbeEvery: 8, ProbeSize: 300}
	var probes []*TestReport
	var lastSeconds float64
	onProgress := func(p Progress) {
		if p.Test != nil {
			probes = append(probes, p.Test)
		}
		if p.Seconds < lastSeconds {
			t.Errorf("training time went back from %g to %g s", lastSeconds, p.Seconds)
		}
		lastSeconds = p.Seconds
		if p.Done == 45 {
			s.Stop()
		}
	}
	res, err := s.Train("mine", spec, nil, nil, onProgress)
	if err != nil || !res.Stopped {
		t.Fatalf("want a stopped run: %v, %+v", err, res)
	}
	bad := spec
	bad.Resume, bad.LR = true, 1e-3
	if _, err := s.Train("mine", bad, nil, nil, onProgress); err == nil || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("a resume with another learning rate: %v", err)
	}
	spec.Resume = true
	if res, err = s.Train("mine", spec, nil, nil, onProgress); err != nil || res.Stopped {
		t.Fatalf("resume: %v, %+v", err, res)
	}
	// 32 steps per epoch: probes at 8, 16, 24, the epoch's end, 40, 48, 56 and the end.
	var at []int
	for _, p := range probes {
		at = append(at, p.Done)
		wantN := 300
		if p.EpochEnd {
			wantN = 1000
			total := 0
			for _, row := range p.Confusion {
				for _, c := range row {
					total += c
				}
			}
			if total != 1000 || len(p.Errors) != min(100, int(math.Round((1-p.Accuracy)*1000))) {
				t.Errorf("epoch-end probe: confusion counts %d, %d errors at accuracy %g", total, len(p.Errors), p.Accuracy)
			}
		}
		if p.N != wantN {
			t.Errorf("probe after %d steps on %d digits, want %d", p.Done, p.N, wantN)
		}
	}
	if want := []int{8, 16, 24, 32, 40, 48, 56, 64}; !slices.Equal(at, want) {
		t.Errorf("probes after %v steps, want %v", at, want)
	}
	first, last := probes[0], probes[len(probes)-1]
	t.Logf("test accuracy %.3f after %d steps → %.3f after %d", first.Accuracy, first.Done, last.Accuracy, last.Done)
	if !(last.Accuracy > first.Accuracy && last.Accuracy > 0.6) {
		t.Errorf("test accuracy %.3f → %.3f", first.Accuracy, last.Accuracy)
	}
	c := res.Calibration
	if c == nil || c.Temperature <= 0 || c.ValSize != 200 || c.Before == nil || c.After == nil ||
		math.Abs(c.After.Accuracy-last.Accuracy) > 1e-9 {
		t.Fatalf("calibration %+v", c)
	}
	if res.Temperature != c.Temperature {
		t.Errorf("loaded model's temperature %g, fitted %g", res.Temperature, c.Temperature)
	}
	images, labels, err := s.SplitImages("test", 10, 3)
	if err != nil || len(images) != 3*784 || len(labels) != 3 {
		t.Fatalf("split images: %v", err)
	}
	if _, _, err := s.SplitImages("test", 999, 2); err == nil {
		t.Error("images past the split's end given")
	}
	if _, err := s.SetSplit("x", readFile(t, "t10k-1000-labels-idx1-ubyte"), readFile(t, "t10k-1000-labels-idx1-ubyte")); err == nil {
		t.Error("labels accepted as images")
	}
}
