package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/zoo"
)

// check runs c's parse step on args (for a command in the older form, which checks as it works, the
// whole command) and returns the exit code and what it printed on stderr. A panic fails the test.
func check(t *testing.T, c *command, args []string) (code int, errText string) {
	t.Helper()
	var out, errOut bytes.Buffer
	stdout, stderr = &out, &errOut
	defer func() {
		stdout, stderr = os.Stdout, os.Stderr
		if r := recover(); r != nil {
			t.Errorf("mnistzip %s %s: panic: %v", c.name, strings.Join(args, " "), r)
			code = -1
		}
	}()
	code = invoke(c, args, &errOut, c.define == nil)
	return code, errOut.String()
}

// numericFlags lists c's flags that take numbers (ints, floats, durations and lists of ints).
func numericFlags(c *command) []*pflag.Flag {
	fs := newFlagSet(c, &bytes.Buffer{})
	c.parser(fs)
	var flags []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		switch f.Value.Type() {
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
			"float32", "float64", "duration", "intSlice", "int32Slice", "int64Slice", "uintSlice", "float32Slice", "float64Slice", "durationSlice":
			flags = append(flags, f)
		}
	})
	return flags
}

// badValues are the values every numeric flag is tried with: 0, -1, a huge value, and for floats NaN
// and an infinity. A list flag gets each value twice (a pair: --channels takes two).
func badValues(f *pflag.Flag) []string {
	typ := f.Value.Type()
	var values []string
	switch {
	case strings.HasPrefix(typ, "duration"):
		values = []string{"0s", "-1s", "100000000h"}
	case strings.HasPrefix(typ, "float"):
		values = []string{"0", "-1", "1e300", "NaN", "Inf"}
	default:
		values = []string{"0", "-1", "1099511627776"}
	}
	if strings.HasSuffix(typ, "Slice") {
		for i, v := range values {
			values[i] = v + "," + v
		}
	}
	return values
}

// flagFixture is a folder with what the commands' arguments name: a weights file (never read by the
// parse step), an IDX file, a wasm folder, an output folder.
type flagFixture struct {
	dir, idxFile string
}

func newFlagFixture(t *testing.T) flagFixture {
	dir := t.TempDir()
	path, _ := subset(t, dir, 20)
	os.WriteFile(filepath.Join(dir, "w.safetensors"), []byte("not read by the parse step"), 0o644)
	os.Mkdir(filepath.Join(dir, "wasm"), 0o755)
	os.WriteFile(filepath.Join(dir, "wasm", "mnistzip.wasm"), []byte("\x00asm"), 0o644)
	return flagFixture{dir: dir, idxFile: path}
}

// baseArgs are arguments with which each command's parse step succeeds, so that a refusal is the
// tried flag's doing. train gets one set per model, so each model's own flags are tried on it.
func (x flagFixture) baseArgs(name string) [][]string {
	weights := filepath.Join(x.dir, "w.safetensors")
	switch name {
	case "train":
		var sets [][]string
		for _, m := range zoo.Models() {
			sets = append(sets, []string{"--model", m.Name, "-o", filepath.Join(x.dir, "new.safetensors")})
		}
		return sets
	case "eval", "calibrate":
		return [][]string{{"--weights", weights}}
	case "sample":
		return [][]string{{"--weights", weights, "-o", filepath.Join(x.dir, "pictures")}}
	case "data":
		return [][]string{{"subset", "-o", x.dir}}
	case "info":
		return [][]string{{x.idxFile}}
	case "compress":
		return [][]string{{"-c", x.idxFile}}
	case "serve":
		return [][]string{{"--wasm-dir", filepath.Join(x.dir, "wasm")}}
	}
	return [][]string{nil}
}

// listAll lists dir recursively.
func listAll(dir string) []string {
	var names []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			names = append(names, p)
		}
		return nil
	})
	return names
}

// TestNumericFlagsAreValidated drives every registered command with each of its numeric flags at 0,
// -1, a huge value and NaN or infinity: no panic, exit 0, 1 or 2 only, a refusal is one line naming
// the flag, nothing is left on disk, and 0 stays allowed where a flag's help gives 0 a meaning.
func TestNumericFlagsAreValidated(t *testing.T) {
	accepted := triedFlagValues(t)
	t.Logf("%d values accepted by the parse step", len(accepted))
}

// acceptedValue is a flag value a command's parse step took: base are the arguments it was tried with.
type acceptedValue struct {
	command, flag, value string
	base                 []string
}

// triedFlagValues is TestNumericFlagsAreValidated's work; it returns the values accepted.
func triedFlagValues(t *testing.T) (accepted []acceptedValue) {
	x := newFlagFixture(t)
	before := listAll(x.dir)
	tried := 0
	for _, name := range sortedKeys(commands) {
		c := commands[name]
		flags := numericFlags(c)
		if len(flags) == 0 {
			continue
		}
		for _, base := range x.baseArgs(name) {
			if code, e := check(t, c, base); code != exitOK {
				t.Errorf("mnistzip %s %s: exit %d (%q): the test's arguments do not pass", name, strings.Join(base, " "), code, e)
				continue
			}
			for _, f := range flags {
				for _, v := range badValues(f) {
					args := append(slices.Clone(base), "--"+f.Name+"="+v)
					call := fmt.Sprintf("mnistzip %s %s", name, strings.Join(args, " "))
					code, e := check(t, c, args)
					tried++
					switch {
					case code != exitOK && code != exitFailure && code != exitUsage:
						t.Errorf("%s: exit %d", call, code)
					case code != exitOK && (strings.Count(strings.TrimSpace(e), "\n") != 0 || !strings.Contains(e, "--"+f.Name)):
						t.Errorf("%s: exit %d, stderr %q: want one line naming --%s", call, code, e, f.Name)
					}
					if code == exitOK {
						accepted = append(accepted, acceptedValue{name, f.Name, v, base})
					}
					zeroMeans := strings.Contains(f.Usage, "(0:") || strings.Contains(f.Usage, " 0:") // "(0: all)"
					if strings.TrimRight(v, ",0s") == "" && zeroMeans && code != exitOK && !strings.Contains(e, "is not a flag of") {
						t.Errorf("%s: exit %d (%q), but --%s's help gives 0 a meaning: %q", call, code, strings.TrimSpace(e), f.Name, f.Usage)
					}
				}
			}
		}
		if after := listAll(x.dir); !slices.Equal(before, after) {
			t.Errorf("mnistzip %s left files: %v (before: %v)", name, after, before)
			before = after
		}
	}
	t.Logf("%d flag values tried", tried)
	if tried < 100 {
		t.Errorf("only %d flag values tried: the registry walk missed commands or flags", tried)
	}
	return accepted
}

// smallDataFolder is a data folder holding the testdata subsets (1000 digits per split) under the
// names of the MNIST files, so a command's real run takes a moment.
func smallDataFolder(t *testing.T) string {
	dir := t.TempDir()
	for name, from := range map[string]string{
		mnist.TrainImagesFile: "train-1000-images-idx3-ubyte", mnist.TrainLabelsFile: "train-1000-labels-idx1-ubyte",
		mnist.TestImagesFile: "t10k-1000-images-idx3-ubyte", mnist.TestLabelsFile: "t10k-1000-labels-idx1-ubyte",
	} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil { // raw IDX: read by content
			t.Fatal(err)
		}
	}
	return dir
}

// TestAcceptedFlagValuesRun: the values the parse step accepts (0 where it means a default, a huge
// seed or time limit, ...) must then work, not crash later. The commands issue 17 found panicking
// (train, eval, sample) run for real on 1000 digits, the tried value last on a small, quick base.
func TestAcceptedFlagValuesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and evaluates a small model")
	}
	accepted := triedFlagValues(t)
	data, dir := smallDataFolder(t), t.TempDir()
	w := filepath.Join(dir, "dense.safetensors")
	trainBase := []string{"train", "--model", "dense", "-f", "-o", w, "--data", data, "--backend", "go",
		"--epochs", "1", "--limit", "128", "--val", "64", "--batch", "64", "--max-steps", "2"}
	runArgs := map[string][]string{
		"train":  trainBase,
		"eval":   {"eval", "--weights", w, "--data", data, "--backend", "go", "--limit", "100"},
		"sample": {"sample", "--weights", w, "--data", data, "--backend", "go", "-o", filepath.Join(dir, "pictures")},
	}
	runWork := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		stdout, stderr = &out, &errOut
		defer func() { stdout, stderr = os.Stdout, os.Stderr }()
		if code := invoke(commands[args[0]], args[1:], &errOut, true); code != exitOK {
			t.Errorf("mnistzip %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut.String()))
		}
	}
	runWork(trainBase...) // the weights eval and sample read
	ran := 0
	for _, a := range accepted {
		base, ok := runArgs[a.command]
		if !ok || (a.command == "train" && !slices.Contains(a.base, "dense")) {
			continue
		}
		args := append(slices.Clone(base), "--"+a.flag+"="+a.value)
		if a.command == "train" {
			args[slices.Index(args, w)] = filepath.Join(dir, "run.safetensors")
		}
		runWork(args...)
		ran++
	}
	t.Logf("ran %d accepted values", ran)
}

// TestIssue17FlagRefusals: the values issue 17 found crashing or silently accepted are refused with
// one line naming the flag and its range (exit 2), and the values where 0 means "all" or "default"
// are still accepted.
func TestIssue17FlagRefusals(t *testing.T) {
	x := newFlagFixture(t)
	w := filepath.Join(x.dir, "w.safetensors")
	out := filepath.Join(x.dir, "new.safetensors")
	train := []string{"train", "--model", "dense", "-o", out}
	for _, c := range []struct {
		args []string
		flag string // "": accepted
	}{
		{[]string{"eval", "--weights", w, "--batch", "-1"}, "batch"},
		{[]string{"eval", "--weights", w, "--batch", "0"}, "batch"},
		{[]string{"eval", "--weights", w, "--limit", "-1"}, "limit"},
		{[]string{"eval", "--weights", w, "--record", "--limit", "100"}, "limit"},
		{append(slices.Clone(train), "--val", "-1"), "val"},
		{append(slices.Clone(train), "--val", "70000"), "val"},
		{append(slices.Clone(train), "--batch", "0"), "batch"},
		{append(slices.Clone(train), "--batch", "60000"), "batch"},
		{append(slices.Clone(train), "--epochs", "0"), "epochs"},
		{append(slices.Clone(train), "--lr", "-1"), "lr"},
		{append(slices.Clone(train), "--lr", "NaN"), "lr"},
		{append(slices.Clone(train), "--weight-decay", "-0.1"), "weight-decay"},
		{append(slices.Clone(train), "--weight-decay", "NaN"), "weight-decay"},
		{append(slices.Clone(train), "--limit", "-1"), "limit"},
		{append(slices.Clone(train), "--limit", "100000"), "limit"},
		{[]string{"sample", "--weights", w, "-o", filepath.Join(x.dir, "pictures"), "--n", "-1"}, "n"},
		{[]string{"sample", "--weights", w, "-o", filepath.Join(x.dir, "pictures"), "--n", "0"}, "n"},
		{[]string{"sample", "--weights", w, "-o", filepath.Join(x.dir, "pictures"), "--n", "100000"}, "n"},
		{[]string{"data", "subset", "-o", x.dir, "--n", "0"}, "n"},
		{[]string{"bench", "--min-time", "0s"}, "min-time"},
		{[]string{"codec-bench", "--qualities", "0"}, "qualities"},
		// Accepted: 0 means all, none or automatic; a validation split smaller than a batch.
		{[]string{"eval", "--weights", w, "--limit", "0", "--record"}, ""},
		{[]string{"eval", "--weights", w, "--limit", "5"}, ""},
		{append(slices.Clone(train), "--val", "0", "--limit", "0", "--devices", "0", "--max-steps", "0", "--max-time", "0s", "--checkpoint-every", "0s"), ""},
		{append(slices.Clone(train), "--val", "100", "--batch", "128", "--limit", "256"), ""},
		{append(slices.Clone(train), "--val", "59999", "--batch", "1"), ""},
	} {
		code, e := check(t, commands[c.args[0]], c.args[1:])
		call := "mnistzip " + strings.Join(c.args, " ")
		if c.flag == "" {
			if code != exitOK {
				t.Errorf("%s: exit %d (%q), want it accepted", call, code, e)
			}
			continue
		}
		if code != exitUsage || strings.Count(strings.TrimSpace(e), "\n") != 0 || !strings.Contains(e, "--"+c.flag) || !strings.ContainsAny(e, "0123456789") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line naming --%s and its range", call, code, e, c.flag)
		}
	}
	if _, err := os.Stat(filepath.Join(x.dir, "pictures")); !os.IsNotExist(err) {
		t.Errorf("a refused sample left its output folder: %v", err)
	}
}
