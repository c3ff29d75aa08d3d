package evaluate

import (
	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/calibrate"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// Classifier is a trained classifier ready for inference.
type Classifier struct {
	Weights *weights.File
	Model   string
	// Temperature divides the scores before the softmax: 1 until `mnistzip calibrate` fits one.
	Temperature float64
	scores      *context.Exec
}

// LoadClassifier prepares f's classifier, whose scores logits builds, on backend.
func LoadClassifier(backend backends.Backend, f *weights.File, logits training.Logits) (*Classifier, error) {
	ctx := context.New()
	if err := f.LoadInto(ctx); err != nil {
		return nil, err
	}
	c := &Classifier{Weights: f, Model: f.Manifest.Model, Temperature: 1}
	if t, ok := f.Manifest.SoftmaxTemperature(); ok {
		c.Temperature = t
	}
	var err error
	c.scores, err = context.NewExecAny(backend, ctx.Reuse(), func(ctx *context.Context, images *Node) *Node {
		n := images.Shape().Dimensions[0]
		return logits(ctx, Reshape(images, n, 28, 28, 1))
	})
	return c, err
}

// Logits runs the classifier over data in batches and returns its scores with the labels.
func (c *Classifier) Logits(data *training.Data, batch int) (calibrate.Logits, error) {
	out := calibrate.Logits{Values: make([]float32, 0, data.N*10), Labels: data.Labels, K: 10}
	for start := 0; start < data.N; start += batch {
		n := min(batch, data.N-start)
		res, err := c.scores.Exec(tensors.FromFlatDataAndDimensions(data.Images[start*784:(start+n)*784], n, 784))
		if err != nil {
			return out, err
		}
		out.Values = append(out.Values, tensors.MustCopyFlatData[float32](res[0])...)
	}
	return out, nil
}

// Confusion returns the confusion matrix [true][predicted] of the scores.
func Confusion(l calibrate.Logits) [10][10]int {
	var m [10][10]int
	pred, _ := Predictions(l)
	for i, y := range l.Labels {
		m[y][pred[i]]++
	}
	return m
}

// Predictions returns each row's predicted class (the first of equal top scores) and its margin, the
// top score minus the runner-up's: how far a row is from flipping when another backend computes the
// scores with other rounding.
func Predictions(l calibrate.Logits) (pred []int, margin []float32) {
	pred, margin = make([]int, l.N()), make([]float32, l.N())
	for i := range pred {
		row := l.Values[i*l.K : (i+1)*l.K]
		best, second := 0, -1
		for c := 1; c < len(row); c++ {
			switch {
			case row[c] > row[best]:
				best, second = c, best
			case second < 0 || row[c] > row[second]:
				second = c
			}
		}
		pred[i], margin[i] = best, row[best]-row[second]
	}
	return pred, margin
}
