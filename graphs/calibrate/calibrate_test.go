package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic draws logits whose calibrated temperature is trueT: labels are sampled from
// softmax(z/trueT), and the logits handed out are z. Fitting must recover trueT.
func synthetic(n int, trueT float64, seed uint64) Logits {
	rng := rand.New(rand.NewPCG(seed, 1))
	l := Logits{Values: make([]float32, n*10), Labels: make([]int32, n), K: 10}
	p := make([]float64, 10)
	for i := range n {
		for c := range 10 {
			l.Values[i*10+c] = float32(rng.NormFloat64() * 4)
		}
		l.Probabilities(i, trueT, p)
		u, acc := rng.Float64(), 0.0
		l.Labels[i] = 9
		for c := range 10 {
			acc += p[c]
			if u < acc {
				l.Labels[i] = int32(c)
				break
			}
		}
	}
	return l
}

func TestFitTemperatureRecoversKnownT(t *testing.T) {
	for _, trueT := range []float64{0.5, 1, 2.5, 8} {
		l := synthetic(40000, trueT, uint64(trueT*10))
		got, err := FitTemperature(l)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-trueT)/trueT > 0.05 {
			t.Errorf("fitted T = %.3f, want %.3f", got, trueT)
		}
		// Calibrated at the fitted T: ECE small; at T = 1 (for trueT far from 1) clearly worse.
		after, _ := Measure(l, got, 15)
		before, _ := Measure(l, 1, 15)
		if after.ECE > 0.02 {
			t.Errorf("T=%.1f: ECE after fitting %.4f", trueT, after.ECE)
		}
		if trueT >= 2.5 && before.ECE < 3*after.ECE {
			t.Errorf("T=%.1f: ECE before %.4f not clearly worse than after %.4f", trueT, before.ECE, after.ECE)
		}
		if after.NLL > before.NLL+1e-9 {
			t.Errorf("fitted T increased the NLL: %.5f → %.5f", before.NLL, after.NLL)
		}
	}
}

func TestMeasureOnHandComputedCase(t *testing.T) {
	// Two examples, two classes. Logits (ln 3, 0) → p = (0.75, 0.25): confidence 0.75, bin (0.7, 0.8].
	l := Logits{Values: []float32{float32(math.Log(3)), 0, float32(math.Log(3)), 0}, Labels: []int32{0, 1}, K: 2}
	r, err := Measure(l, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accuracy != 0.5 {
		t.Errorf("accuracy %v, want 0.5", r.Accuracy)
	}
	// One bin with confidence 0.75, accuracy 0.5 → ECE = MCE = 0.25.
	if math.Abs(r.ECE-0.25) > 1e-6 || math.Abs(r.MCE-0.25) > 1e-6 {
		t.Errorf("ECE %v MCE %v, want 0.25", r.ECE, r.MCE)
	}
	if r.Bins[7].Count != 2 {
		t.Errorf("bins %+v: both examples belong to (0.7, 0.8]", r.Bins)
	}
	// NLL = −½(ln 0.75 + ln 0.25).
	if want := -0.5 * (math.Log(0.75) + math.Log(0.25)); math.Abs(r.NLL-want) > 1e-6 {
		t.Errorf("NLL %v, want %v", r.NLL, want)
	}
	// Scaling never changes the argmax, so accuracy is the same at any T.
	r2, _ := Measure(l, 3.7, 10)
	if r2.Accuracy != r.Accuracy {
		t.Errorf("accuracy changed with T: %v vs %v", r2.Accuracy, r.Accuracy)
	}
}

// TestGainHandComputed: two examples of two classes with margins +2 and −2 for the true class. At
// T = 2 their NLLs change by log(1+e^−1) − log(1+e^−2) and log(1+e) − log(1+e²): differences
// −0.186334 and +0.813666 (T = 1 minus T = 2), mean 0.313666, each 0.5 from it: standard error 0.5.
func TestGainHandComputed(t *testing.T) {
	l := Logits{Values: []float32{2, 0, 0, 2}, Labels: []int32{0, 0}, K: 2}
	gain, z := l.Gain(2)
	want := (math.Log1p(math.Exp(-2)) - math.Log1p(math.Exp(-1)) + math.Log1p(math.Exp(2)) - math.Log1p(math.Exp(1))) / 2
	if math.Abs(gain-want) > 1e-12 || math.Abs(gain-0.313666) > 1e-6 || math.Abs(z-gain/0.5) > 1e-9 {
		t.Errorf("gain %v, z %v; want %v and %v", gain, z, want, want/0.5)
	}
	if g, z := l.Gain(1); g != 0 || z != 0 {
		t.Errorf("T = 1: gain %v, z %v; want 0, 0", g, z)
	}
}
