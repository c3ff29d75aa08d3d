//go:build unix

package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

func oneLineWith(t *testing.T, what, stderr string, want ...string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("%s: stderr is not one line: %q", what, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: stderr %q lacks %q", what, stderr, w)
		}
	}
}

// TestTrainOutputFolderMissing: train -o into a missing folder fails at once, naming the output (not
// a temporary file), before it reads any data: the data folder here does not exist either, and it
// is not what is reported.
func TestTrainOutputFolderMissing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "missing", "w.safetensors")
	start := time.Now()
	code, _, e := run(t, "train", "--model", "dense", "-o", out, "--data", filepath.Join(dir, "no-data"))
	if code != exitFailure {
		t.Errorf("exit %d, want 1 (stderr %q)", code, e)
	}
	oneLineWith(t, "train -o missing/", e, out, "does not exist")
	if strings.Contains(e, ".tmp") || strings.Contains(e, "no-data") || strings.Contains(e, "make data") {
		t.Errorf("stderr %q: want the output's folder reported, not a temporary file or the data", e)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to fail", d)
	}
	// A checkpoint into a missing folder likewise.
	code, _, e = run(t, "train", "--model", "dense", "-o", filepath.Join(dir, "w"), "--checkpoint", filepath.Join(dir, "nope", "c"), "--data", filepath.Join(dir, "no-data"))
	if code != exitFailure {
		t.Errorf("--checkpoint into a missing folder: exit %d", code)
	}
	oneLineWith(t, "train --checkpoint missing/", e, filepath.Join(dir, "nope", "c"), "does not exist")
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left %d files", len(entries))
	}
}

// TestTrainSmallValidation: a validation split smaller than a batch is evaluated and its loss stored
// (it used to be stored as 0); without a split, no validation loss is stored at all.
func TestTrainSmallValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small model")
	}
	data, dir := smallDataFolder(t), t.TempDir()
	for _, c := range []struct {
		val     string
		wantVal bool
	}{{"100", true}, {"0", false}} {
		w := filepath.Join(dir, "val"+c.val+".safetensors")
		code, _, e := run(t, "train", "--model", "dense", "-o", w, "--data", data, "--backend", "go",
			"--epochs", "1", "--limit", "256", "--val", c.val, "--batch", "128")
		if code != exitOK {
			t.Fatalf("--val %s: exit %d: %s", c.val, code, e)
		}
		f, err := weights.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := f.Manifest.Metrics["val_loss"]
		switch {
		case c.wantVal && !(ok && v > 0):
			t.Errorf("--val %s --batch 128: val_loss %v (recorded %v), want the loss of the 100 digits", c.val, v, ok)
		case !c.wantVal && ok:
			t.Errorf("--val 0: val_loss %v recorded", v)
		}
	}
}

// TestInfoDamagedWeights: info on a weights file whose header is damaged says in one line that the
// file is neither valid weights nor IDX nor .mz, naming the file once (the IDX error used to repeat
// it: "x: read x: idx: bad magic").
func TestInfoDamagedWeights(t *testing.T) {
	good, err := os.ReadFile("../graphs/models/shipped/ae.safetensors")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"length.safetensors":    append([]byte("XXXXXXXX"), good[8:]...),
		"truncated.safetensors": good[:len(good)/3],
		"json.safetensors":      append(append(append([]byte{}, good[:8]...), 'Z'), good[9:]...),
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		code, _, e := run(t, "info", p)
		if code != exitFailure {
			t.Errorf("%s: exit %d", name, code)
		}
		oneLineWith(t, "info "+name, e, p)
		if n := strings.Count(e, p); n != 1 {
			t.Errorf("info %s: %q names the file %d times", name, e, n)
		}
		if !strings.Contains(e, "weights") {
			t.Errorf("info %s: %q does not say what the file fails to be", name, e)
		}
	}
}

// TestOutputsNeverReplaceSpecialFiles: -f -o writes into a FIFO or a character device in place,
// refuses a directory in one line, writes through a symbolic link, and names a missing folder by the
// output's own path.
func TestOutputsNeverReplaceSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	input, _ := subset(t, dir, 50)
	// A FIFO with a reader: compress writes into it.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- len(b)
	}()
	if code, _, e := run(t, "compress", "-k", "-f", "-o", fifo, input); code != exitOK {
		t.Fatalf("compress -f -o FIFO: exit %d: %s", code, e)
	}
	select {
	case n := <-got:
		if n <= 0 {
			t.Errorf("the FIFO's reader got %d bytes", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing reached the FIFO")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", fi.Mode())
	}
	// A character device: one made here as root, else a link to /dev/null (never /dev/null itself).
	dev := filepath.Join(dir, "null")
	if syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3) != nil {
		os.Symlink("/dev/null", dev)
	} else if f, err := os.OpenFile(dev, os.O_WRONLY, 0); err != nil {
		os.Remove(dev)
		os.Symlink("/dev/null", dev)
	} else {
		f.Close()
	}
	before, _ := os.Lstat(dev)
	if code, _, e := run(t, "compress", "-k", "-f", "-o", dev, input); code != exitOK {
		t.Fatalf("compress -f -o device: exit %d: %s", code, e)
	}
	if after, err := os.Lstat(dev); err != nil || after.Mode() != before.Mode() {
		t.Errorf("the device %v became %v", before.Mode(), after.Mode())
	}
	if fi, _ := os.Stat(dev); fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("no longer a character device: %v", fi.Mode())
	}
	// A directory is refused in one line and stays.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	code, _, e := run(t, "compress", "-k", "-f", "-o", sub, input)
	if code != exitFailure {
		t.Errorf("compress -f -o DIR: exit %d", code)
	}
	oneLineWith(t, "compress -f -o DIR", e, sub, "directory")
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Error("the directory was replaced")
	}
	// A link to a regular file: the file gets the output, the link stays.
	target := filepath.Join(dir, "target.mz")
	os.WriteFile(target, []byte("old"), 0o644)
	link := filepath.Join(dir, "link.mz")
	os.Symlink(target, link)
	if code, _, e := run(t, "compress", "-k", "-f", "-o", link, input); code != exitOK {
		t.Fatalf("compress -f -o LINK: exit %d: %s", code, e)
	}
	if li, _ := os.Lstat(link); li.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) == "old" {
		t.Error("the link's target was not written")
	}
	// A missing folder is named by the output's path.
	missing := filepath.Join(dir, "nope", "x.mz")
	code, _, e = run(t, "compress", "-k", "-o", missing, input)
	if code != exitFailure {
		t.Errorf("compress -o missing/: exit %d", code)
	}
	oneLineWith(t, "compress -o missing/", e, missing, "does not exist")
	if strings.Contains(e, ".tmp") {
		t.Errorf("the error names the temporary file: %q", e)
	}
	for _, n := range listDir(t, dir) {
		if strings.Contains(n, ".tmp") {
			t.Errorf("left %s", n)
		}
	}
}

// TestTrainInit: --init starts a run from trained weights and the manifest names them; weights of
// another model or configuration are refused in one line (exit 2), and a file that is not weights
// in one line (exit 1), before any data is read and leaving no output.
func TestTrainInit(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small model")
	}
	data, dir := smallDataFolder(t), t.TempDir()
	first := filepath.Join(dir, "first.safetensors")
	small := []string{"--data", data, "--backend", "go", "--epochs", "1", "--limit", "128", "--val", "64", "--batch", "64"}
	if code, _, e := run(t, append([]string{"train", "--model", "dense", "-o", first}, small...)...); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, e)
	}
	second := filepath.Join(dir, "second.safetensors")
	if code, _, e := run(t, append([]string{"train", "--model", "dense", "--init", first, "-o", second}, small...)...); code != exitOK {
		t.Fatalf("--init: exit %d: %s", code, e)
	}
	a, _ := weights.ReadFile(first)
	b, err := weights.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := a.ID()
	if rec := b.Manifest.Training.Init; rec == nil || rec.ID != id || rec.Epochs != 1 {
		t.Errorf("manifest's init record %+v, want %s after 1 epoch", rec, id)
	}
	if _, out, _ := run(t, "info", second); !strings.Contains(out, "started from weights "+id+" (1 epochs") {
		t.Errorf("info does not say where the run started: %q", out)
	}
	out := filepath.Join(dir, "refused.safetensors")
	missing := filepath.Join(dir, "no-data")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", "ae"}, exitUsage, `"dense" model, not "ae"`},
		{[]string{"--model", "dense", "--code", "16"}, exitUsage, "configuration"},
	} {
		args := append(append([]string{"train"}, c.args...), "--init", first, "-o", out, "--data", missing)
		code, _, e := run(t, args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (%q)", c.args, code, c.code, e)
		}
		oneLineWith(t, strings.Join(c.args, " "), e, "--init", c.want)
	}
	code, _, e := run(t, "train", "--model", "dense", "--init", filepath.Join(dir, "nothing.safetensors"), "-o", out, "--data", missing)
	if code != exitFailure {
		t.Errorf("--init of a missing file: exit %d (%q)", code, e)
	}
	oneLineWith(t, "--init missing", e, "--init", "nothing.safetensors")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s", out)
	}
}

// TestCalibrateMinZ: calibrate applies the fitted temperature when its validation gain is
// significant enough (--min-z 0: always) and keeps T = 1, saying so, when it is not (--min-z 100);
// either way the manifest records the fitted T and its z score, and eval reports what was kept.
func TestCalibrateMinZ(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small classifier")
	}
	data, dir := smallDataFolder(t), t.TempDir()
	w := filepath.Join(dir, "cnn.safetensors")
	if code, _, e := run(t, "train", "--model", "cnn", "-o", w, "--data", data, "--backend", "go",
		"--epochs", "1", "--limit", "256", "--val", "200", "--batch", "64"); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, e)
	}
	for _, c := range []struct {
		minZ string
		kept bool
	}{{"0", false}, {"100", true}} {
		code, out, e := run(t, "calibrate", "--weights", w, "--data", data, "--backend", "go", "--min-z", c.minZ)
		if code != exitOK {
			t.Fatalf("calibrate --min-z %s: exit %d: %s", c.minZ, code, e)
		}
		f, err := weights.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		temp, ok := f.Manifest.SoftmaxTemperature()
		fitted, z := f.Manifest.Metrics["val_temperature_fitted"], f.Manifest.Metrics["val_nll_gain_z"]
		if !ok || fitted <= 0 || fitted == 1 || z == 0 {
			t.Fatalf("--min-z %s: temperature %v (%v), fitted %v, z %v", c.minZ, temp, ok, fitted, z)
		}
		if c.kept != (temp == 1) || (!c.kept && temp != fitted) || c.kept != strings.Contains(out, "kept T = 1") {
			t.Errorf("--min-z %s: stored T %v, fitted %v (z %.1f), output %q", c.minZ, temp, fitted, z, out)
		}
		_, out, _ = run(t, "eval", "--weights", w, "--data", data, "--backend", "go", "--limit", "100")
		if c.kept != strings.Contains(out, "T = 1 kept") || strings.Contains(out, "not calibrated yet") {
			t.Errorf("--min-z %s: eval says %q", c.minZ, out)
		}
	}
}

// TestEvalPredictions: eval --predictions writes, for each evaluated digit, the class the table's
// confusion matrix counts and a non-negative margin, under the weights' ID and the backend that ran.
func TestEvalPredictions(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small classifier")
	}
	data, dir := smallDataFolder(t), t.TempDir()
	w, p := filepath.Join(dir, "cnn.safetensors"), filepath.Join(dir, "predictions.json")
	if code, _, e := run(t, "train", "--model", "cnn", "--size", "tiny", "-o", w, "--data", data, "--backend", "go",
		"--epochs", "1", "--limit", "256", "--val", "0", "--batch", "64"); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, e)
	}
	code, out, e := run(t, "eval", "--weights", w, "--data", data, "--backend", "go", "--limit", "60", "--json", "--predictions", p)
	if code != exitOK {
		t.Fatalf("eval: exit %d: %s", code, e)
	}
	var report struct{ Confusion [10][10]int }
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := evaluate.DecodePredictionRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	f, err := weights.ReadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := f.ID(); rec.WeightsID != id || rec.Backend != "go" || rec.N != 60 || rec.Model != "cnn" {
		t.Errorf("record of %s on %q, %d digits, model %q; want %s on go, 60, cnn", rec.WeightsID, rec.Backend, rec.N, rec.Model, id)
	}
	var counted [10]int
	for i, c := range rec.Predicted {
		if c < 0 || c > 9 || rec.Margin[i] < 0 {
			t.Fatalf("digit %d: class %d, margin %v", i, c, rec.Margin[i])
		}
		counted[c]++
	}
	for c := range 10 {
		column := 0
		for y := range 10 {
			column += report.Confusion[y][c]
		}
		if column != counted[c] {
			t.Errorf("class %d: predicted %d times in the record, %d in the confusion matrix", c, counted[c], column)
		}
	}
	// A folder is refused in one line, as every output is (before the evaluation runs).
	code, _, e = run(t, "eval", "--weights", w, "--data", data, "--backend", "go", "--predictions", dir)
	if code != exitFailure {
		t.Errorf("--predictions naming a folder: exit %d, want %d", code, exitFailure)
	}
	oneLineWith(t, "eval --predictions DIR", e, dir, "directory")
}
