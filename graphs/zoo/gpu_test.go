package zoo

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// gpuCheckDigits is how many digits TestGPUWeightsOnEngine classifies per model: the paper-size
// models take seconds per hundred digits on the engine.
const gpuCheckDigits = 100

// TestGPUWeightsOnEngine: shipped weights trained on a GPU (XLA CUDA, native/gpu/check.sh) predict on
// the pure-Go engine what they predicted on the GPU. testdata/gpu/NAME-predictions.json holds the GPU's
// prediction and top-1 margin for each of the first 1,000 test digits (native/gpu/peers.sh); the engine
// classifies the 100 digits whose GPU margin was smallest, the ones another rounding would flip first.
// (wasm/api_test.mjs checks the browser build on the same fixtures.)
func TestGPUWeightsOnEngine(t *testing.T) {
	fixtures, _ := filepath.Glob("../../testdata/gpu/*-predictions.json")
	if len(fixtures) == 0 {
		t.Fatal("no GPU prediction fixtures in testdata/gpu")
	}
	testSet, err := mnist.LoadFiles("../../testdata/t10k-1000-images-idx3-ubyte", "../../testdata/t10k-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	backend := testBackend(t)
	for _, fixture := range fixtures {
		name := strings.TrimSuffix(filepath.Base(fixture), "-predictions.json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(fixture)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := evaluate.DecodePredictionRecord(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.Backend, "cuda") || rec.N != testSet.N {
				t.Fatalf("fixture made on %q over %d digits: want a CUDA backend over the %d of testdata", rec.Backend, rec.N, testSet.N)
			}
			f, err := weights.ReadFile(filepath.Join("../models/shipped", name+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := f.ID(); id != rec.WeightsID {
				t.Fatalf("fixture is for weights %s, the shipped %s are %s: remake it on a GPU (native/gpu/peers.sh) or delete it", rec.WeightsID, name, id)
			}
			trained, err := Load(backend, f)
			if err != nil {
				t.Fatal(err)
			}
			order := make([]int, rec.N)
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, b int) int {
				switch {
				case rec.Margin[a] < rec.Margin[b]:
					return -1
				case rec.Margin[a] > rec.Margin[b]:
					return 1
				}
				return 0
			})
			picked := order[:gpuCheckDigits]
			data := &training.Data{Images: make([]float32, 0, len(picked)*mnist.ImageSize), Labels: make([]int32, len(picked)), N: len(picked)}
			for k, i := range picked {
				one := training.FromSet(testSet, i, 1)
				data.Images, data.Labels[k] = append(data.Images, one.Images...), one.Labels[0]
			}
			logits, err := trained.Classifier.Logits(data, len(picked))
			if err != nil {
				t.Fatal(err)
			}
			pred, margin := evaluate.Predictions(logits)
			for k, i := range picked {
				if pred[k] != rec.Predicted[i] {
					t.Errorf("digit %d: engine predicts %d (margin %.4f), the GPU predicted %d (margin %.4f)", i, pred[k], margin[k], rec.Predicted[i], rec.Margin[i])
				}
			}
			t.Logf("%s: %d digits (GPU margins %.4f … %.4f) classified as on the GPU (%s)", name, len(picked), rec.Margin[picked[0]], rec.Margin[picked[len(picked)-1]], rec.Backend)
		})
	}
}
