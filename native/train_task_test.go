package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// TestConfigFlags: every flag-tagged field of every registry model is a train flag; a flag sets the
// field it names (presets, shared flags and two-value flags included); a flag of another model, a
// value out of range and NaN are usage errors naming the flag.
func TestConfigFlags(t *testing.T) {
	parse := func(args ...string) (*configFlags, *pflag.FlagSet) {
		fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
		c := addConfigFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return c, fs
	}
	c, fs := parse()
	for _, m := range zoo.Models() {
		cfg, _ := m.NewConfig("")
		for _, f := range configFields(m.Name, cfg) {
			if fs.Lookup(f.flag) == nil {
				t.Errorf("%s: field flag --%s not registered", m.Name, f.flag)
			}
			if !strings.Contains(fs.Lookup(f.flag).Usage, m.Name) {
				t.Errorf("--%s usage %q does not name %s", f.flag, fs.Lookup(f.flag).Usage, m.Name)
			}
		}
	}
	_ = c
	good := []struct {
		model string
		args  []string
		check func(zoo.Config) bool
	}{
		{"densenet", []string{"--size", "paper", "--growth", "8", "--dropout", "0.2"}, func(cfg zoo.Config) bool {
			d := cfg.(*zoo.DenseNetConfig)
			return d.Size == "paper" && d.Growth == 8 && d.Dropout == 0.2 && d.Blocks == 3 && !d.StemPool
		}},
		{"cnn", []string{"--dropout", "0.3", "--shift", "2"}, func(cfg zoo.Config) bool {
			return reflect.DeepEqual(*cfg.(*zoo.CNNConfig), zoo.CNNConfig{Size: "standard", Shift: 2, Dropout: 0.3})
		}},
		{"cnn", []string{"--size", "tiny"}, func(cfg zoo.Config) bool {
			return reflect.DeepEqual(*cfg.(*zoo.CNNConfig), zoo.CNNConfig{Size: "tiny", Shift: 1})
		}},
		{"capsnet", []string{"--size", "paper", "--routing", "2"}, func(cfg zoo.Config) bool {
			c := cfg.(*zoo.CapsNetConfig)
			return c.Conv1Channels == 256 && c.RoutingIterations == 2 && c.Shift == 2
		}},
	}
	for _, g := range good {
		c, _ := parse(g.args...)
		m, _ := zoo.Lookup(g.model)
		task, err := c.task(m)
		if err != nil {
			t.Fatalf("%s %v: %v", g.model, g.args, err)
		}
		if !g.check(task.Config.(zoo.Config)) {
			t.Errorf("%s %v: config %+v", g.model, g.args, task.Config)
		}
	}
	bad := []struct {
		model string
		args  []string
		want  string
	}{
		{"cnn", []string{"--growth", "5"}, "--growth is not a flag of cnn"},
		{"ae", []string{"--noise", "gaussian"}, "--noise is not a flag of ae"},
		{"ae", []string{"--code", "-1"}, "--code -1 is out of range"},
		{"dae", []string{"--noise-level", "NaN"}, "--noise-level NaN is out of range"},
		{"ae", []string{"--channels", "1,2,3"}, "--channels takes 2 values"},
		{"ae", []string{"--channels", "0,8"}, "--channels 0 is out of range"},
		{"cnn", []string{"--size", "paper"}, `unknown cnn size "paper"`},
		{"vae", []string{"--size", "paper"}, "vae has no sizes"},
		{"capsnet", []string{"--size", "huge"}, `unknown capsnet size "huge"`},
		{"densenet", []string{"--dropout", "1"}, "--dropout 1 is out of range"},
		{"cnn", []string{"--shift", "9"}, "--shift 9 is out of range"},
	}
	for _, b := range bad {
		c, _ := parse(b.args...)
		m, _ := zoo.Lookup(b.model)
		_, err := c.task(m)
		if _, usage := err.(usageError); !usage || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s %v: %v, want a usage error with %q", b.model, b.args, err, b.want)
		}
	}
}
