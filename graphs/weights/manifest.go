package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Manifest describes how a model was made. It is stored as a JSON string in
// the safetensors metadata (key "manifest") and covered by the checksum.
type Manifest struct {
	// Model names the architecture: "ae", "vae", "cnn", "capsnet", ...
	Model string `json:"model"`
	// Config is the model's configuration, whole: the JSON of its registry config struct, which
	// graphs/zoo decodes (weights does not know the models). Files written before the registry hold a
	// flat object that also carries the training options, the epoch history and the softmax
	// temperature: TrainingRecord and SoftmaxTemperature read those too, and the object is kept as
	// written, so such a file's ID does not change when it is decoded and encoded again.
	Config json.RawMessage `json:"config,omitempty"`
	// Training records how the weights were trained (nil for files that did not come from training).
	Training *Training `json:"training,omitempty"`
	// Temperature is a classifier's fitted softmax temperature (0: not calibrated).
	Temperature float64 `json:"temperature,omitempty"`
	// Command is the training command line.
	Command string `json:"command,omitempty"`
	// Seed is the random seed used for training.
	Seed int64 `json:"seed"`
	// Metrics are final evaluation results (must be finite: JSON has no NaN).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Backend is the GoMLX backend used for training (e.g. "xla:cuda").
	Backend string `json:"backend,omitempty"`
	// CreatedBy is the tool name and version that wrote the file.
	CreatedBy string `json:"created_by,omitempty"`
	// TrainedAt is the training end time, RFC 3339.
	TrainedAt string `json:"trained_at,omitempty"`
	// Notes is free text.
	Notes string `json:"notes,omitempty"`
	// NonTrainable lists tensors saved from non-trainable GoMLX variables
	// (filled by FromContext, used by LoadInto), so a resumed training does
	// not start optimizing e.g. batch-norm statistics or step counters.
	NonTrainable []string `json:"non_trainable,omitempty"`

	// Extra keeps JSON fields this version does not know (written by a newer
	// version), so decoding and re-encoding a file does not drop them. Keys
	// that name a known field are ignored when encoding.
	Extra map[string]json.RawMessage `json:"-"`
}

// manifestFields has Manifest's fields without its methods, so the default
// JSON encoding applies to it (no recursion into MarshalJSON).
type manifestFields Manifest

// knownManifestKeys are the JSON names of Manifest's fields.
var knownManifestKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[manifestFields]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}()

// isKnownManifestKey matches case-insensitively, as encoding/json does when
// it fills struct fields: such a key is consumed by the field, not Extra.
func isKnownManifestKey(key string) bool {
	for _, k := range knownManifestKeys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// MarshalJSON encodes the known fields plus Extra. Output is deterministic.
func (m Manifest) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(manifestFields(m))
	if err != nil || len(m.Extra) == 0 {
		return known, err
	}
	merged := map[string]json.RawMessage{}
	if err := json.Unmarshal(known, &merged); err != nil {
		return nil, err
	}
	for k, v := range m.Extra {
		if !isKnownManifestKey(k) {
			merged[k] = v
		}
	}
	return json.Marshal(merged) // map keys are sorted: deterministic.
}

// UnmarshalJSON decodes known fields (numbers in Config as json.Number) and
// keeps unknown ones in Extra.
func (m *Manifest) UnmarshalJSON(data []byte) error {
	var fields manifestFields
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	*m = Manifest(fields)
	m.Extra = nil
	for k, v := range all {
		if isKnownManifestKey(k) {
			continue
		}
		if m.Extra == nil {
			m.Extra = map[string]json.RawMessage{}
		}
		m.Extra[k] = v
	}
	return nil
}

// canonicalManifest is the exact manifest string Encode stores and hashes.
//
// The canonical form is the JSON with every object's keys sorted (struct fields included) and numbers
// kept as written: re-marshalling a decoded manifest (whose nested values are maps and json.Numbers)
// gives the same bytes, so a decoded file's ID equals the ID it was written with.
func canonicalManifest(m *Manifest) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	if b, err = json.Marshal(generic); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidManifest, err)
	}
	return b, nil
}

// Training is the record of a training run: its options, the loss after each epoch and, in a
// checkpoint, where the run stands.
type Training struct {
	Epochs int     `json:"epochs"`
	Batch  int     `json:"batch"`
	LR     float64 `json:"lr"`
	// WeightDecay is AdamW's decoupled weight decay (0: plain Adam).
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Schedule    string  `json:"schedule,omitempty"` // "" is the constant learning rate
	ValSize     int     `json:"val_size"`           // digits held out from the end of the training set
	Limit       int     `json:"limit,omitempty"`    // trained on the first Limit+ValSize digits only (0: all)
	History     []Epoch `json:"history,omitempty"`
	// Checkpoint is set in checkpoints only: the epoch (0-based) and step a resumed run starts at.
	Checkpoint *Position `json:"checkpoint,omitempty"`
	// Init is set when the run started from trained weights (train --init) instead of a random
	// initialization: which weights, so the whole recipe can be retraced.
	Init *Init `json:"init,omitempty"`
}

// Init names the weights a run started from: their ID, the command that trained them and their
// epochs (a run continued from weights that were themselves continued lists the whole chain).
type Init struct {
	ID      string `json:"id"`
	Command string `json:"command,omitempty"`
	Epochs  int    `json:"epochs"`
	Init    *Init  `json:"init,omitempty"`
}

// Epoch summarizes one epoch of training.
type Epoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	ValLoss   float64 `json:"val_loss,omitempty"` // 0: no validation split
	Seconds   float64 `json:"seconds"`
}

// Position is where a checkpointed run stands.
type Position struct {
	Epoch int `json:"epoch"`
	Step  int `json:"step"`
}

// legacyConfig is what files written before the registry kept in their flat config object besides
// the model's own keys.
type legacyConfig struct {
	Epochs            *int     `json:"epochs"`
	Batch             int      `json:"batch"`
	LR                float64  `json:"lr"`
	Schedule          string   `json:"schedule"`
	ValSize           int      `json:"val_size"`
	Limit             int      `json:"limit"`
	History           []Epoch  `json:"history"`
	CheckpointEpoch   *int     `json:"checkpoint_epoch"`
	CheckpointStep    int      `json:"checkpoint_step"`
	CheckpointHistory []Epoch  `json:"checkpoint_history"`
	Temperature       *float64 `json:"temperature"`
}

func (m *Manifest) legacy() (legacyConfig, bool) {
	var l legacyConfig
	if len(m.Config) == 0 || json.Unmarshal(m.Config, &l) != nil {
		return l, false
	}
	return l, true
}

// TrainingRecord returns how the weights were trained, from Training or, in a file written before
// the registry, from its flat config object; false if neither says.
func (m *Manifest) TrainingRecord() (Training, bool) {
	if m.Training != nil {
		return *m.Training, true
	}
	l, ok := m.legacy()
	if !ok || l.Epochs == nil {
		return Training{}, false
	}
	t := Training{Epochs: *l.Epochs, Batch: l.Batch, LR: l.LR, Schedule: l.Schedule, ValSize: l.ValSize, Limit: l.Limit, History: l.History}
	if l.CheckpointEpoch != nil {
		t.Checkpoint = &Position{Epoch: *l.CheckpointEpoch, Step: l.CheckpointStep}
		t.History = l.CheckpointHistory
	}
	return t, true
}

// SoftmaxTemperature returns a calibrated classifier's temperature (Temperature, or a file written
// before the registry's config key "temperature"); false if it was never calibrated.
func (m *Manifest) SoftmaxTemperature() (float64, bool) {
	if m.Temperature > 0 {
		return m.Temperature, true
	}
	if l, ok := m.legacy(); ok && l.Temperature != nil && *l.Temperature > 0 {
		return *l.Temperature, true
	}
	return 0, false
}
