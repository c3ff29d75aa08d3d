package zoo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/engine"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// TestRegistry: every entry has every piece. Its name is unique; its configuration exists at every
// size, resolves to one that validates and round-trips whole through a weights file's manifest;
// its task builds; and weights trained for one step load back as the model of its family.
func TestRegistry(t *testing.T) {
	backend, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	set, err := mnist.LoadFiles("../../testdata/train-1000-images-idx3-ubyte", "../../testdata/train-1000-labels-idx1-ubyte")
	if err != nil {
		t.Fatal(err)
	}
	data := training.FromSet(set, 0, 8)
	seen := map[string]bool{}
	for _, m := range Models() {
		t.Run(m.Name, func(t *testing.T) {
			if m.Name == "" || seen[m.Name] || m.Summary == "" || (m.Family != Autoencoder && m.Family != Classifier) {
				t.Fatalf("entry %+v: needs a unique name, a summary and a family", m)
			}
			seen[m.Name] = true
			if m.newConfig == nil || m.task == nil || m.load == nil {
				t.Fatal("missing config, task or loader")
			}
			if got, err := Lookup(m.Name); err != nil || got != m {
				t.Fatalf("Lookup(%q) = %v, %v", m.Name, got, err)
			}
			sizes := append([]string{""}, m.Sizes...)
			for _, size := range sizes {
				cfg, err := m.NewConfig(size)
				if err != nil {
					t.Fatalf("size %q: %v", size, err)
				}
				task, err := m.Task(cfg)
				if err != nil {
					t.Fatalf("size %q: %v", size, err)
				}
				if a, b := mustJSON(t, task.Config), mustJSON(t, cfg); task.Model != m.Name || a != b {
					t.Errorf("size %q: task of %q with config %v", size, task.Model, task.Config)
				}
				again := reflect.ValueOf(cfg).Elem().Interface()
				cfg.Resolve()
				if !reflect.DeepEqual(again, reflect.ValueOf(cfg).Elem().Interface()) {
					t.Errorf("size %q: resolving twice changed the configuration", size)
				}
				// Whole through a manifest: what is decoded is what was trained.
				man, err := training.Manifest(task, training.Options{Epochs: 1, Batch: 4})
				if err != nil {
					t.Fatal(err)
				}
				back, err := m.DecodeConfig(man.Config)
				if err != nil {
					t.Fatalf("size %q: %v", size, err)
				}
				if !reflect.DeepEqual(back, cfg) {
					t.Errorf("size %q: config %+v came back as %+v", size, cfg, back)
				}
			}
			if _, err := m.NewConfig("huge"); err == nil {
				t.Error("size huge accepted")
			}
			if m.Name == "capsnet" && testing.Short() {
				return
			}
			// One step of training at the default size, then load the weights for inference.
			task, err := m.Task(m.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			opt := training.Options{Epochs: 1, Batch: 4, LR: 1e-3, Seed: 1, MaxSteps: 1}
			res, err := training.Run(backend, task, data, nil, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, err := training.FinalWeights(res, task, opt, nil)
			if err != nil {
				t.Fatal(err)
			}
			trained, err := Load(backend, f)
			if err != nil {
				t.Fatal(err)
			}
			if (trained.Autoencoder != nil) != (m.Family == Autoencoder) || (trained.Classifier != nil) != (m.Family == Classifier) {
				t.Errorf("loaded %+v for a %s", trained, m.Family)
			}
			if trained.Label != m.Name {
				t.Errorf("label %q at the default size", trained.Label)
			}
		})
	}
	if _, err := Lookup("resnet"); err == nil || !strings.Contains(err.Error(), "cnn") {
		t.Errorf("unknown model: %v", err)
	}
}

// TestShippedWeightsLoad: every shipped weights file, written before the registry with a flat
// config object, decodes into the configuration it was trained with.
func TestShippedWeightsLoad(t *testing.T) {
	var files []string
	for _, label := range ShippedLabels() {
		files = append(files, filepath.Join("../models/shipped", label+".safetensors"))
	}
	if others, _ := filepath.Glob("../models/shipped/*.safetensors"); len(others) != len(files) {
		t.Errorf("shipped weights %v, the registry ships %v", others, ShippedLabels())
	}
	want := map[string]func(Config) bool{
		"capsnet-paper": func(c Config) bool { return c.(*CapsNetConfig).CapsNetConfig == models.CapsNetPaper },
		"capsnet":       func(c Config) bool { return c.(*CapsNetConfig).CapsNetConfig == models.CapsNetSmall },
		"densenet": func(c Config) bool {
			d := c.(*DenseNetConfig) // TRAIN_densenet: the small preset with dropout 0.1 and ±2 px shifts
			arch := d.DenseNetConfig
			arch.Dropout = 0
			return d.Size == "small" && arch == models.DenseNetSmall && d.Dropout == 0.1 && d.Shift == 2
		},
		"densenet-paper": func(c Config) bool {
			d := c.(*DenseNetConfig) // TRAIN_densenet-paper: the paper preset with dropout 0.1 and ±2 px shifts
			arch := d.DenseNetConfig
			arch.Dropout = 0
			return d.Size == "paper" && arch == models.DenseNetPaper && d.Dropout == 0.1 && d.Shift == 2
		},
		"cnn": func(c Config) bool { // TRAIN_cnn
			cnn := *c.(*CNNConfig)
			return cnn == CNNConfig{Size: "standard", Shift: 2, Dropout: 0.4}
		},
		"ae":  func(c Config) bool { return c.(*models.AEConfig).Channels == [2]int{16, 32} },
		"dae": func(c Config) bool { return c.(*models.AEConfig).Channels == [2]int{32, 64} },
		"vae": func(c Config) bool { return c.(*models.AEConfig).CodeSize == 2 },
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".safetensors")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := weights.Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m, err := Lookup(f.Manifest.Model)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cfg, err := m.DecodeConfig(f.Manifest.Config)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		trained, err := Load(testBackend(t), f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if trained.Label != name {
			t.Errorf("%s: loaded as %q", name, trained.Label)
		}
		if check, ok := want[name]; ok && !check(cfg) {
			t.Errorf("%s: decoded %+v", name, cfg)
		}
		if rec, ok := f.Manifest.TrainingRecord(); !ok || rec.Epochs < 1 || len(rec.History) != rec.Epochs {
			t.Errorf("%s: training record %+v, %v", name, rec, ok)
		}
		if again, _ := weights.Marshal(f); !bytes.Equal(again, data) {
			t.Errorf("%s: decoding and encoding changed the file (its ID would change)", name)
		}
	}
}

// TestConfigValidation: configurations that cannot build a network are refused, whether made in
// code or read from a manifest.
func TestConfigValidation(t *testing.T) {
	bad := []struct {
		model string
		json  string
	}{
		{"densenet", `{"size":"small","growth":0,"blocks":3,"layers_per_block":4,"init_channels":24,"compression":0.5,"shift":1}`},
		{"densenet", `{"size":"small","growth":12,"blocks":9,"layers_per_block":4,"init_channels":24,"compression":0.5,"shift":1}`},
		{"densenet", `{"size":"huge","growth":12,"blocks":3,"layers_per_block":4,"init_channels":24,"compression":0.5,"shift":1}`},
		{"capsnet", `{"size":"small","conv1_channels":64,"primary_types":8,"primary_dim":8,"digit_dim":16,"routing_iterations":0,"decoder":[512,1024],"shift":2}`},
		{"cnn", `{"shift":9}`},
		{"ae", `{"kind":"ae","code_size":32,"channels":[16,32],"l1":0.1}`},
		{"vae", `{"kind":"vae","code_size":2,"channels":[16,32],"spatial_code":true}`},
		{"dae", `{"kind":"dae","code_size":32,"channels":[16,32],"noise":"salt","noise_level":0.3}`},
		{"ae", `[1,2]`},
	}
	for _, b := range bad {
		m, _ := Lookup(b.model)
		if _, err := m.DecodeConfig(json.RawMessage(b.json)); err == nil {
			t.Errorf("%s %s accepted", b.model, b.json)
		}
	}
	m, _ := Lookup("densenet")
	cfg, _ := m.NewConfig("paper")
	cfg.(*DenseNetConfig).Growth = 8
	if _, err := m.Task(cfg); err != nil {
		t.Fatal(err)
	}
	if d := cfg.(*DenseNetConfig); d.Growth != 8 || d.Blocks != models.DenseNetPaper.Blocks || d.StemPool {
		t.Errorf("paper preset with growth 8: %+v", d)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMain checks, before any test opens a backend, that importing the registry (every model, its
// training and evaluation) left GoMLX as it was: the engine's gradients are installed only when a
// backend is opened.
func TestMain(m *testing.M) {
	if engine.Installed() {
		fmt.Fprintln(os.Stderr, "importing graphs/zoo installed the engine's gradients into GoMLX")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func testBackend(t *testing.T) backends.Backend {
	t.Helper()
	b, err := engine.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckInit: a run may start from weights of its model whose configuration differs only in
// how the model trains (dropout, shifts: tagged init:"any"), and not from any other.
func TestCheckInit(t *testing.T) {
	task := func(m *Model, set func(c Config)) *training.Task {
		t.Helper()
		c, err := m.NewConfig("")
		if err != nil {
			t.Fatal(err)
		}
		set(c)
		task, err := m.Task(c)
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
	shipped := task(densenetModel, func(Config) {})
	raw, err := json.Marshal(shipped.Config)
	if err != nil {
		t.Fatal(err)
	}
	f := &weights.File{Manifest: weights.Manifest{Model: "densenet", Config: raw}}
	for _, c := range []struct {
		what string
		set  func(c *DenseNetConfig)
		ok   bool
	}{
		{"same configuration", func(*DenseNetConfig) {}, true},
		{"dropout and shift changed", func(c *DenseNetConfig) { c.Dropout, c.Shift = 0.1, 2 }, true},
		{"growth changed", func(c *DenseNetConfig) { c.Growth = 16 }, false},
		{"paper size", func(c *DenseNetConfig) { c.Size = "paper" }, false},
	} {
		err := densenetModel.CheckInit(f, task(densenetModel, func(cfg Config) { c.set(cfg.(*DenseNetConfig)) }))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.what, err)
		}
	}
	if err := cnnModel.CheckInit(f, task(cnnModel, func(Config) {})); err == nil || !strings.Contains(err.Error(), `"densenet" model, not "cnn"`) {
		t.Errorf("a CNN run from DenseNet weights: %v", err)
	}
}
