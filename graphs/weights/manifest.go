package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Manifest describes how a model was made. It is stored as a JSON string in
// the safetensors metadata (key "manifest") and covered by the checksum.
type Manifest struct {
	// Model names the architecture: "ae", "vae", "cnn", "capsnet", ...
	Model string `json:"model"`
	// Config holds model hyper-parameters. After Decode, numbers are
	// json.Number (exact for large ints); use ConfigInt/ConfigFloat to read them.
	Config map[string]any `json:"config,omitempty"`
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

// ConfigString returns Config[key] if it is a string.
func (m *Manifest) ConfigString(key string) (string, bool) {
	s, ok := m.Config[key].(string)
	return s, ok
}

// ConfigBool returns Config[key] if it is a bool.
func (m *Manifest) ConfigBool(key string) (bool, bool) {
	b, ok := m.Config[key].(bool)
	return b, ok
}

// ConfigFloat returns Config[key] as float64 if it is any number.
func (m *Manifest) ConfigFloat(key string) (float64, bool) {
	switch v := m.Config[key].(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case float32:
		return float64(v), true
	}
	if i, ok := m.ConfigInt(key); ok {
		return float64(i), true
	}
	return 0, false
}

// ConfigInt returns Config[key] as int64 if it is an integer, including a
// float64 with an integral value (what plain json.Unmarshal produces).
func (m *Manifest) ConfigInt(key string) (int64, bool) {
	switch v := m.Config[key].(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i, true
		}
		f, err := v.Float64()
		return floatToInt(f, err == nil)
	case float64:
		return floatToInt(v, true)
	case float32:
		return floatToInt(float64(v), true)
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint:
		if uint64(v) <= math.MaxInt64 {
			return int64(v), true
		}
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	}
	return 0, false
}

func floatToInt(f float64, ok bool) (int64, bool) {
	if !ok || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}
