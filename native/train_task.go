package main

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// configFlags are the flags that set model configuration fields. They are made from the registry:
// every field of a model's config struct tagged `flag:"name"` (with `help`, and `min`/`max` for
// numbers; `for` restricts a shared struct's field to some models) becomes --name, shared by every
// model whose config has a field of that name, so a new model's options appear without touching the
// CLI.
type configFlags struct {
	fs     *pflag.FlagSet
	size   *string
	owners map[string][]string // flag → the models it configures
}

// configField is one flag-tagged field reached by reflection (embedded structs included).
type configField struct {
	flag, help string
	min, max   string
	value      reflect.Value
}

// configFields lists the flag-tagged fields of model's configuration cfg (a pointer to a struct):
// those whose `for` tag, if any, names the model.
func configFields(model string, cfg zoo.Config) []configField {
	var out []configField
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i))
				continue
			}
			if only := f.Tag.Get("for"); only != "" && !slices.Contains(strings.Split(only, ","), model) {
				continue
			}
			if name := f.Tag.Get("flag"); name != "" {
				out = append(out, configField{flag: name, help: f.Tag.Get("help"), min: f.Tag.Get("min"), max: f.Tag.Get("max"), value: v.Field(i)})
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem())
	return out
}

func addConfigFlags(fs *pflag.FlagSet) *configFlags {
	c := &configFlags{fs: fs, owners: map[string][]string{}}
	var sized []string
	for _, m := range zoo.Models() {
		if len(m.Sizes) > 0 {
			sized = append(sized, m.Name+" "+strings.Join(m.Sizes, " or "))
		}
		cfg, _ := m.NewConfig("")
		for _, f := range configFields(m.Name, cfg) {
			if prev := fs.Lookup(f.flag); prev == nil {
				switch f.value.Kind() {
				case reflect.Int:
					fs.Int(f.flag, 0, f.help)
				case reflect.Float64:
					fs.Float64(f.flag, 0, f.help)
				case reflect.String:
					fs.String(f.flag, "", f.help)
				case reflect.Bool:
					fs.Bool(f.flag, false, f.help)
				case reflect.Array:
					fs.IntSlice(f.flag, nil, f.help)
				default:
					panic(fmt.Sprintf("model %s: flag --%s has a field of kind %s", m.Name, f.flag, f.value.Kind()))
				}
			}
			c.owners[f.flag] = append(c.owners[f.flag], m.Name)
		}
	}
	c.size = fs.String("size", "", "the size preset (the first is the default): "+strings.Join(sized, "; "))
	for name, models := range c.owners {
		f := fs.Lookup(name)
		f.Usage = strings.Join(models, ", ") + ": " + f.Usage
	}
	return c
}

// task builds model's configuration from the flags given and returns its training task. A flag
// that does not configure this model, or a value outside its range, is a usage error naming it.
func (c *configFlags) task(m *zoo.Model) (*training.Task, error) {
	cfg, err := m.NewConfig(*c.size)
	if err != nil {
		return nil, usagef("--size: %v", err)
	}
	fields := configFields(m.Name, cfg)
	var usage error
	c.fs.Visit(func(f *pflag.Flag) {
		if _, ours := c.owners[f.Name]; !ours || usage != nil {
			return
		}
		i := slices.IndexFunc(fields, func(cf configField) bool { return cf.flag == f.Name })
		if i < 0 {
			usage = usagef("--%s is not a flag of %s (it configures %s)", f.Name, m.Name, strings.Join(c.owners[f.Name], ", "))
			return
		}
		usage = c.set(fields[i])
	})
	if usage != nil {
		return nil, usage
	}
	task, err := m.Task(cfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return task, nil
}

// set copies the flag's value into the field, checking the field's range.
func (c *configFlags) set(f configField) error {
	inRange := func(v float64) error {
		lo, hi := math.Inf(-1), math.Inf(1)
		if f.min != "" {
			lo, _ = strconv.ParseFloat(f.min, 64)
		}
		if f.max != "" {
			hi, _ = strconv.ParseFloat(f.max, 64)
		}
		if !(v >= lo && v <= hi) { // NaN fails too
			return usagef("--%s %v is out of range: want %s..%s", f.flag, v, orDash(f.min), orDash(f.max))
		}
		return nil
	}
	switch f.value.Kind() {
	case reflect.Int:
		v, _ := c.fs.GetInt(f.flag)
		if err := inRange(float64(v)); err != nil {
			return err
		}
		f.value.SetInt(int64(v))
	case reflect.Float64:
		v, _ := c.fs.GetFloat64(f.flag)
		if err := inRange(v); err != nil {
			return err
		}
		f.value.SetFloat(v)
	case reflect.String:
		v, _ := c.fs.GetString(f.flag)
		f.value.SetString(v)
	case reflect.Bool:
		v, _ := c.fs.GetBool(f.flag)
		f.value.SetBool(v)
	case reflect.Array:
		v, _ := c.fs.GetIntSlice(f.flag)
		if len(v) != f.value.Len() {
			return usagef("--%s takes %d values separated by commas, got %d", f.flag, f.value.Len(), len(v))
		}
		for i, x := range v {
			if err := inRange(float64(x)); err != nil {
				return err
			}
			f.value.Index(i).SetInt(int64(x))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "any"
	}
	return s
}
