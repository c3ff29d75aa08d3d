package zoo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
	"github.com/mnistzip/mnistzip/graphs/xlatest"
)

// XLACheckDirEnv names a folder where TestXLAWeightsOnEngine leaves its XLA-trained CNN and the
// predictions XLA made with it, for the wasm test (wasm/api_test.mjs) to check the browser build
// predicts the same. make test sets it.
const XLACheckDirEnv = "MNISTZIP_XLA_CHECK_DIR"

// TestXLAWeightsOnEngine: classifiers trained on XLA CPU, written to a weights file and read back,
// predict the same class as XLA for every one of the 1,000 test digits on the pure-Go engine.
func TestXLAWeightsOnEngine(t *testing.T) {
	xla := xlatest.Backend(t)
	eng, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	trainSet, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	testSet, err := mnist.LoadFiles("../../testdata/t10k-1000-images-idx3-ubyte", "../../testdata/t10k-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	trainData, val := training.SplitValidation(trainSet, 100)
	test := training.FromSet(testSet, 0, testSet.N)
	for _, m := range Models() {
		if m.Family != Classifier {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			task, err := m.Task(m.DefaultConfig()) // the small sizes
			if err != nil {
				t.Fatal(err)
			}
			opt := training.Options{Epochs: 2, Batch: 32, LR: 2e-3, Seed: 1, Backend: "xla:cpu"}
			res, err := training.Run(xla, task, trainData, val, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, err := training.FinalWeights(res, task, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := weights.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if f, err = weights.Decode(raw); err != nil {
				t.Fatal(err)
			}
			predict := func(name string, trained *Trained, err error) []int {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				l, err := trained.Classifier.Logits(test, 100)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				out := make([]int, l.N())
				for i := range out {
					row := l.Values[i*10 : (i+1)*10]
					for k := range row {
						if row[k] > row[out[i]] {
							out[i] = k
						}
					}
				}
				return out
			}
			onXLAModel, err := Load(xla, f)
			onXLA := predict("xla", onXLAModel, err)
			onEngineModel, err := Load(eng, f)
			onEngine := predict("engine", onEngineModel, err)
			differ, correct := 0, 0
			for i := range onXLA {
				if onXLA[i] != onEngine[i] {
					differ++
				}
				if onXLA[i] == int(testSet.Labels[i]) {
					correct++
				}
			}
			t.Logf("%s trained on XLA (%d steps): %d/1000 test digits right; engine and XLA differ on %d", m.Name, res.Steps, correct, differ)
			if differ > 0 {
				t.Errorf("%s: XLA-trained weights predict differently on the engine for %d of 1000 digits", m.Name, differ)
			}
			// Well above chance (100), so the weights compared are trained ones. The DenseNet is lowest
			// (~380): its batch-norm moving averages are still far from the batch statistics.
			if correct < 250 {
				t.Errorf("%s: only %d/1000 right after training on XLA", m.Name, correct)
			}
			if dir := os.Getenv(XLACheckDirEnv); dir != "" && m.Name == "cnn" {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				js, _ := json.Marshal(map[string]any{"model": m.Name, "predictions": onXLA})
				if err := os.WriteFile(filepath.Join(dir, "cnn.safetensors"), raw, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "cnn-predictions.json"), js, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
