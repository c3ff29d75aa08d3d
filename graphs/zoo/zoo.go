// Package zoo is the model registry: every model mnistzip trains is declared here once, with its
// name, its typed configuration (JSON-tagged, stored whole in the weights' manifest, with Validate),
// its training task, how trained weights are loaded for evaluation and inference, the pictures
// `mnistzip sample` draws of it, and whether the browser may train it. The CLI, the WebAssembly
// API, the service and the tests iterate Models(); none of them lists model names.
//
// Adding a model is one file declaring it (see cnn.go for the shortest) and one line in registry.go;
// TestRegistry checks that every entry has every piece.
package zoo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// Family is what a model does with a digit.
type Family string

const (
	Autoencoder Family = "autoencoder" // reconstructs it from a code
	Classifier  Family = "classifier"  // says which digit it is
)

// Config is a model's configuration: a pointer to its JSON-tagged struct. Fields tagged `flag`
// can be set from the command line (native/ builds the flags from the tags and `help`).
type Config interface {
	// Resolve fills the fields left zero with the model's defaults (of its size, for a model with
	// presets). Resolving twice changes nothing.
	Resolve()
	Validate() error
}

// Model is one registry entry.
type Model struct {
	Name    string
	Family  Family
	Summary string
	// Sizes are the presets a configuration may start from (the first is the default); nil if the
	// model has none.
	Sizes []string
	// Browser: the page may train this model (at its defaults, on the pure-Go engine in wasm).
	Browser bool
	// Pictures names what `mnistzip sample` draws of it besides the loss curves.
	Pictures []Picture
	// Shipped lists the sizes whose weights ship in graphs/models/shipped (make models trains
	// them, as Label(size).safetensors); "" is the default size. Empty: none ship.
	Shipped []string

	newConfig func(size string) Config
	// sizeOf names the size a decoded configuration is, for models whose configurations do not
	// record it (SizeName); nil: the configuration's SizeName, or the default.
	sizeOf func(Config) string
	task   func(Config) *training.Task
	load   func(backends.Backend, *weights.File, Config) (*Trained, error)
}

// Picture names one kind of picture of a trained model.
type Picture string

const (
	Reconstructions        Picture = "reconstructions"         // test digits over their reconstructions
	Denoising              Picture = "denoising"               // corrupted, denoised, clean
	LatentGrid             Picture = "latent-grid"             // the 2-D latent plane decoded
	LatentScatter          Picture = "latent-scatter"          // the test set's latent means by class
	CapsuleReconstructions Picture = "capsule-reconstructions" // the CapsNet decoder's view of test digits
	CapsulePerturbations   Picture = "capsule-perturbations"   // each capsule dimension tweaked
)

// declare builds an entry from typed pieces; C is the config struct's pointer type.
func declare[C Config](m Model, newConfig func(size string) C, task func(C) *training.Task,
	load func(backends.Backend, *weights.File, C) (*Trained, error)) *Model {
	m.newConfig = func(size string) Config { return newConfig(size) }
	m.task = func(c Config) *training.Task { return task(c.(C)) }
	m.load = func(b backends.Backend, f *weights.File, c Config) (*Trained, error) { return load(b, f, c.(C)) }
	return &m
}

// Models lists the registry in its order (autoencoders, then classifiers).
func Models() []*Model { return registry }

// Names lists the models' names, in registry order.
func Names(family ...Family) []string {
	var names []string
	for _, m := range registry {
		if len(family) == 0 || slices.Contains(family, m.Family) {
			names = append(names, m.Name)
		}
	}
	return names
}

// Lookup finds a model by name; the error lists the known ones.
func Lookup(name string) (*Model, error) {
	for _, m := range registry {
		if m.Name == name {
			return m, nil
		}
	}
	if name == "" {
		return nil, fmt.Errorf("no model named: want one of %s", strings.Join(Names(), ", "))
	}
	return nil, fmt.Errorf("unknown model %q: want %s (autoencoders) or %s (classifiers)", name,
		strings.Join(Names(Autoencoder), ", "), strings.Join(Names(Classifier), ", "))
}

// NewConfig returns the model's configuration at size ("" for the default size), with every other
// field zero: set what the caller wants, then Task resolves the rest.
func (m *Model) NewConfig(size string) (Config, error) {
	switch {
	case size != "" && len(m.Sizes) == 0:
		return nil, fmt.Errorf("%s has no sizes", m.Name)
	case size != "" && !slices.Contains(m.Sizes, size):
		return nil, fmt.Errorf("unknown %s size %q: want %s", m.Name, size, strings.Join(m.Sizes, " or "))
	}
	return m.newConfig(size), nil
}

// DefaultConfig is the model's resolved default configuration.
func (m *Model) DefaultConfig() Config {
	c := m.newConfig("")
	c.Resolve()
	return c
}

// Task resolves and validates cfg (a configuration of this model) and returns its training task.
func (m *Model) Task(cfg Config) (*training.Task, error) {
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return m.task(cfg), nil
}

// DecodeConfig reads the configuration stored in a manifest of this model. Keys it does not know
// are ignored: files written before the registry keep training options in the same object.
func (m *Model) DecodeConfig(raw json.RawMessage) (Config, error) {
	c := m.newConfig("")
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, c); err != nil {
			return nil, fmt.Errorf("%s configuration: %w", m.Name, err)
		}
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s configuration: %w", m.Name, err)
	}
	return c, nil
}

// CheckInit checks that f holds this model with the configuration task trains, so that the run can
// start from its weights (train --init). f's configuration is read as Load reads it (files written
// before the registry qualify too) and compared as the task it would train, but for the fields
// tagged init:"any": how the model trains (dropout, random shifts), not which variables it has, so a
// warm restart may change them.
func (m *Model) CheckInit(f *weights.File, task *training.Task) error {
	if f.Manifest.Model != m.Name {
		return fmt.Errorf("the weights are a %q model, not %q", f.Manifest.Model, m.Name)
	}
	cfg, err := m.DecodeConfig(f.Manifest.Config)
	if err != nil {
		return err
	}
	theirs, err := m.Task(cfg)
	if err != nil {
		return err
	}
	free := initFreeKeys(reflect.TypeOf(cfg))
	a, err := sortedJSON(theirs.Config, free)
	if err != nil {
		return err
	}
	b, err := sortedJSON(task.Config, free)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("the weights have the configuration %s, this run %s", a, b)
	}
	return nil
}

// initFreeKeys lists the JSON keys of the struct fields tagged init:"any" in t and the structs it
// embeds.
func initFreeKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			keys = append(keys, initFreeKeys(f.Type)...)
			continue
		}
		if f.Tag.Get("init") == "any" {
			keys = append(keys, strings.Split(f.Tag.Get("json"), ",")[0])
		}
	}
	return keys
}

// sortedJSON is v as canonical JSON (training.CanonicalJSON: keys sorted), leaving out the
// top-level keys drop.
func sortedJSON(v any, drop []string) ([]byte, error) {
	b, err := training.CanonicalJSON(v)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if len(drop) == 0 || json.Unmarshal(b, &obj) != nil {
		return b, nil // nothing to drop, or not an object
	}
	for _, k := range drop {
		delete(obj, k)
	}
	return json.Marshal(obj) // a map's keys come out sorted; the values are canonical already
}

// Trained is a weights file loaded for inference: the autoencoder or the classifier it holds.
type Trained struct {
	Model  *Model
	File   *weights.File
	Config Config
	// Label names the model in file names and titles: the model, and "-paper" for a paper-size one.
	Label       string
	Autoencoder *evaluate.Autoencoder // autoencoders
	Classifier  *evaluate.Classifier  // classifiers
	CapsNet     *evaluate.CapsNet     // the CapsNet's parts (capsules, decoder), for its pictures
}

// Load prepares the model a weights file holds on backend.
func Load(backend backends.Backend, f *weights.File) (*Trained, error) {
	m, err := Lookup(f.Manifest.Model)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	cfg, err := m.DecodeConfig(f.Manifest.Config)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	t, err := m.load(backend, f, cfg)
	if err != nil {
		return nil, err
	}
	t.Model, t.File, t.Config = m, f, cfg
	size := ""
	if s, ok := cfg.(interface{ SizeName() string }); ok {
		size = s.SizeName()
	} else if m.sizeOf != nil {
		size = m.sizeOf(cfg)
	}
	t.Label = m.Label(size)
	return t, nil
}

// Label names the model at size in file names and titles: the name, and "-size" for a size other
// than the default (so a paper-size network's files sit beside the small one's).
func (m *Model) Label(size string) string {
	if size == "" || len(m.Sizes) == 0 || size == m.Sizes[0] {
		return m.Name
	}
	return m.Name + "-" + size
}

// ShippedLabels lists the labels of every shipped weights file, in registry order.
func ShippedLabels() []string {
	var out []string
	for _, m := range registry {
		for _, size := range m.Shipped {
			out = append(out, m.Label(size))
		}
	}
	return out
}
