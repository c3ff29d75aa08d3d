// Package calibrate fits a softmax temperature to a classifier's logits (Guo et al. 2017, "On
// Calibration of Modern Neural Networks") and measures calibration: NLL, expected and maximum
// calibration error over equal-width confidence bins, and the bins of a reliability diagram.
// It works on plain Go slices: logits come out of any backend.
package calibrate

import (
	"errors"
	"math"
)

// Logits holds n rows of k class scores and the true class of each row.
type Logits struct {
	Values []float32 // n × k
	Labels []int32   // n
	K      int
}

// N is the number of examples.
func (l Logits) N() int { return len(l.Labels) }

func (l Logits) validate() error {
	if l.K < 2 || len(l.Values) != l.N()*l.K || l.N() == 0 {
		return errors.New("calibrate: logits and labels do not agree")
	}
	for _, y := range l.Labels {
		if y < 0 || int(y) >= l.K {
			return errors.New("calibrate: label out of range")
		}
	}
	return nil
}

// Probabilities returns softmax(logits/T) for row i into p (len K), computed stably.
func (l Logits) Probabilities(i int, temperature float64, p []float64) {
	row := l.Values[i*l.K : (i+1)*l.K]
	m, sum := maxAndSumExp(row, temperature)
	for c, v := range row {
		p[c] = math.Exp(float64(v)/temperature-m) / sum
	}
}

// NLL is the mean negative log-likelihood of the true class under softmax(logits/T).
func (l Logits) NLL(temperature float64) float64 {
	total := 0.0
	for i := range l.Labels {
		total += l.nllAt(i, temperature)
	}
	return total / float64(l.N())
}

// nllAt is the negative log-likelihood of row i's true class under softmax(logits/T).
func (l Logits) nllAt(i int, temperature float64) float64 {
	row := l.Values[i*l.K : (i+1)*l.K]
	m, sum := maxAndSumExp(row, temperature)
	return m + math.Log(sum) - float64(row[l.Labels[i]])/temperature
}

// Gain is how much temperature T lowers the mean NLL against T = 1, and that gain's z score over
// the examples (the mean of the per-example differences over its standard error; 0 when every
// difference is 0). On a model that is already calibrated, a T fitted on a few thousand digits
// can gain little and noisily: a small z says the fitted T may not carry over to other digits.
func (l Logits) Gain(temperature float64) (gain, z float64) {
	n := float64(l.N())
	var sum, sumSq float64
	for i := range l.Labels {
		d := l.nllAt(i, 1) - l.nllAt(i, temperature)
		sum += d
		sumSq += d * d
	}
	gain = sum / n
	variance := (sumSq - n*gain*gain) / max(1, n-1)
	if variance <= 0 {
		return gain, 0
	}
	return gain, gain / math.Sqrt(variance/n)
}

// maxAndSumExp returns m = max(row/T) and Σ exp(row/T − m): log-sum-exp without overflow.
func maxAndSumExp(row []float32, temperature float64) (m, sum float64) {
	m = math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v)/temperature)
	}
	for _, v := range row {
		sum += math.Exp(float64(v)/temperature - m)
	}
	return m, sum
}

// FitTemperature returns the T > 0 minimizing the NLL of softmax(logits/T). NLL(T) is convex in
// 1/T, hence unimodal in log T: a golden-section search over log T ∈ [log 0.01, log 100] to a
// relative precision of 1e-6 finds the minimum whatever the starting calibration (a fixed number of
// gradient steps from T = 1, the common shortcut, barely moves T on badly calibrated models).
func FitTemperature(l Logits) (float64, error) {
	if err := l.validate(); err != nil {
		return 0, err
	}
	f := func(logT float64) float64 { return l.NLL(math.Exp(logT)) }
	a, b := math.Log(0.01), math.Log(100)
	phi := (math.Sqrt(5) - 1) / 2
	x1, x2 := b-phi*(b-a), a+phi*(b-a)
	f1, f2 := f(x1), f(x2)
	for b-a > 1e-6 {
		if f1 < f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - phi*(b-a)
			f1 = f(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + phi*(b-a)
			f2 = f(x2)
		}
	}
	return math.Exp((a + b) / 2), nil
}

// Bin is one confidence bin of a reliability diagram.
type Bin struct {
	Lower, Upper   float64 // confidence range (Lower, Upper]
	Count          int
	Accuracy       float64 // fraction correct among the bin's examples
	MeanConfidence float64
}

// Report is a classifier's accuracy and calibration at one temperature.
type Report struct {
	Temperature float64 `json:"temperature"`
	Accuracy    float64 `json:"accuracy"`
	NLL         float64 `json:"nll"`
	ECE         float64 `json:"ece"` // Σ_b (n_b/n)·|acc_b − conf_b|
	MCE         float64 `json:"mce"` // max_b |acc_b − conf_b| over non-empty bins
	Bins        []Bin   `json:"bins"`
}

// Measure computes the Report of softmax(logits/T) with numBins equal-width confidence bins
// (Guo et al. use 15).
func Measure(l Logits, temperature float64, numBins int) (Report, error) {
	if err := l.validate(); err != nil {
		return Report{}, err
	}
	r := Report{Temperature: temperature, NLL: l.NLL(temperature), Bins: make([]Bin, numBins)}
	for b := range r.Bins {
		r.Bins[b].Lower, r.Bins[b].Upper = float64(b)/float64(numBins), float64(b+1)/float64(numBins)
	}
	p := make([]float64, l.K)
	correct := 0
	for i, y := range l.Labels {
		l.Probabilities(i, temperature, p)
		pred := 0
		for c := range p {
			if p[c] > p[pred] {
				pred = c
			}
		}
		conf := p[pred]
		b := min(numBins-1, max(0, int(math.Ceil(conf*float64(numBins)))-1)) // bins are (lower, upper]
		bin := &r.Bins[b]
		bin.Count++
		bin.MeanConfidence += conf
		if pred == int(y) {
			bin.Accuracy++
			correct++
		}
	}
	n := float64(l.N())
	r.Accuracy = float64(correct) / n
	for b := range r.Bins {
		bin := &r.Bins[b]
		if bin.Count == 0 {
			continue
		}
		bin.Accuracy /= float64(bin.Count)
		bin.MeanConfidence /= float64(bin.Count)
		gap := math.Abs(bin.Accuracy - bin.MeanConfidence)
		r.ECE += float64(bin.Count) / n * gap
		r.MCE = math.Max(r.MCE, gap)
	}
	return r, nil
}
