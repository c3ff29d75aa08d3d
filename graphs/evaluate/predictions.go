package evaluate

import (
	"encoding/json"
	"fmt"

	"github.com/mnistzip/mnistzip/graphs/calibrate"
)

// PredictionRecord is what a classifier predicted for each of the first N test digits on one backend
// (`mnistzip eval --predictions`): weights trained and evaluated on a GPU carry it to machines without
// one, where a test checks the pure-Go engine and the browser predict the same.
type PredictionRecord struct {
	Model     string    `json:"model"`
	WeightsID string    `json:"weights_id"`
	Backend   string    `json:"backend"`
	N         int       `json:"n"`
	Predicted []int     `json:"predicted"`
	Margin    []float32 `json:"margin"` // top score minus the runner-up's
}

// NewPredictionRecord summarizes the scores of one run.
func NewPredictionRecord(model, weightsID, backend string, l calibrate.Logits) PredictionRecord {
	pred, margin := Predictions(l)
	return PredictionRecord{Model: model, WeightsID: weightsID, Backend: backend, N: l.N(), Predicted: pred, Margin: margin}
}

// DecodePredictionRecord reads a record and checks it is whole.
func DecodePredictionRecord(data []byte) (PredictionRecord, error) {
	var r PredictionRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("prediction record: %w", err)
	}
	if r.N < 1 || len(r.Predicted) != r.N || len(r.Margin) != r.N {
		return r, fmt.Errorf("prediction record: %d digits, %d predictions, %d margins", r.N, len(r.Predicted), len(r.Margin))
	}
	return r, nil
}

// Disagreements lists the digits (indices below min(N, len(pred))) where pred differs from the record.
func (r PredictionRecord) Disagreements(pred []int) []int {
	var diff []int
	for i := range min(r.N, len(pred)) {
		if pred[i] != r.Predicted[i] {
			diff = append(diff, i)
		}
	}
	return diff
}
