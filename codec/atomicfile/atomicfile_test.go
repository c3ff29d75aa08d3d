//go:build unix

package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// entries lists dir's names (hidden temporary files included).
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

func write(t *testing.T, path, text string, opts ...Option) error {
	t.Helper()
	return WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, text); return err }, opts...)
}

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	a, err := Create(out, Perm(0o640))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(a, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the output exists before Commit: %v", err)
	}
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "hello" {
		t.Errorf("content %q", got)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o640&^umask() {
		t.Errorf("mode %v, want %v", fi.Mode().Perm(), 0o640&^umask())
	}
	if err := a.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, err := a.Write([]byte("x")); !errors.Is(err, ErrDone) {
		t.Errorf("Write after Commit: %v", err)
	}
	// An aborted replacement leaves the old content and no temporary file.
	b, err := Create(out, Overwrite(true))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(b, "half of someth")
	if err := b.Abort(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "hello" {
		t.Errorf("content after Abort %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left in the folder: %v", names)
	}
	// A write function's error aborts.
	boom := errors.New("boom")
	if err := WriteFile(out, func(w io.Writer) error { io.WriteString(w, "x"); return boom }, Overwrite(true)); err != boom {
		t.Errorf("WriteFile returned %v, want the write function's error", err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left in the folder after a failed WriteFile: %v", names)
	}
	f, remove, err := Scratch(dir, ".spool-*")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "spooled")
	remove()
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left in the folder after a scratch file: %v", names)
	}
	if len(pending) != 0 || watching {
		t.Errorf("%d files still pending, watching signals %v", len(pending), watching)
	}
}

func umask() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	os.WriteFile(existing, []byte("keep"), 0o644)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.Symlink(filepath.Join(dir, "nothing"), filepath.Join(dir, "dangling"))
	missing := filepath.Join(dir, "no", "such", "folder", "out")
	for _, c := range []struct {
		path   string
		opts   []Option
		is     error
		phrase string
	}{
		{existing, nil, fs.ErrExist, "already exists"},
		{existing, nil, ErrExist, "already exists"},
		{sub, []Option{Overwrite(true)}, ErrIsDir, "is a directory"},
		{filepath.Join(dir, "dangling"), []Option{Overwrite(true)}, ErrDanglingLink, "missing file"},
		{missing, nil, fs.ErrNotExist, "folder " + filepath.Dir(missing) + " does not exist"},
		{filepath.Join(existing, "out"), nil, nil, "is not a folder"},
	} {
		for name, try := range map[string]func() error{
			"Create":    func() error { _, err := Create(c.path, c.opts...); return err },
			"Check":     func() error { return Check(c.path, c.opts...) },
			"WriteFile": func() error { return write(t, c.path, "x", c.opts...) },
		} {
			err := try()
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.phrase) {
				t.Errorf("%s(%s): %v; want an error with %q", name, c.path, err, c.phrase)
				continue
			}
			// The error names the output, never a temporary file.
			if !strings.Contains(err.Error(), c.path) || strings.Contains(err.Error(), ".tmp") {
				t.Errorf("%s(%s): %q does not name the output", name, c.path, err)
			}
		}
	}
	if got, _ := os.ReadFile(existing); string(got) != "keep" {
		t.Error("a refused output was changed")
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Error("the directory was replaced")
	}
	if names := entries(t, dir); len(names) != 3 {
		t.Errorf("folder holds %v", names)
	}
	// Check leaves nothing behind when the output may be written.
	if err := Check(filepath.Join(dir, "new")); err != nil {
		t.Fatal(err)
	}
	if err := Check(existing, Overwrite(true)); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 3 {
		t.Errorf("Check left %v", names)
	}
}

// TestSymlinkIsWrittenThrough: the file a link points to gets the new content, the link stays.
func TestSymlinkIsWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	realFile := filepath.Join(other, "real")
	os.WriteFile(realFile, []byte("old"), 0o644)
	link := filepath.Join(dir, "link")
	if err := os.Symlink(realFile, link); err != nil {
		t.Fatal(err)
	}
	if err := write(t, link, "new"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("without Overwrite: %v", err)
	}
	if err := write(t, link, "new", Overwrite(true)); err != nil {
		t.Fatal(err)
	}
	if li, _ := os.Lstat(link); li.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if got, _ := os.ReadFile(realFile); string(got) != "new" {
		t.Errorf("link target holds %q", got)
	}
	if len(entries(t, dir)) != 1 || len(entries(t, other)) != 1 {
		t.Errorf("left behind: %v %v", entries(t, dir), entries(t, other))
	}
}

// TestFIFOIsWrittenDirectly: a FIFO output stays a FIFO and its reader gets the bytes.
func TestFIFOIsWrittenDirectly(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := write(t, fifo, "through the pipe", Overwrite(true)); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "through the pipe" {
			t.Errorf("reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reader got nothing")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
}

// TestCharDeviceIsWrittenDirectly uses a null device made in a temporary folder (as root), else a
// link to /dev/null: never /dev/null itself, which a broken implementation run as root would replace.
func TestCharDeviceIsWrittenDirectly(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, int(1<<8|3)); err != nil {
		t.Logf("mknod: %v; using a link to /dev/null", err)
		if err := os.Symlink("/dev/null", dev); err != nil {
			t.Fatal(err)
		}
	} else if f, err := os.OpenFile(dev, os.O_WRONLY, 0); err != nil {
		t.Logf("the folder does not allow devices (%v); using a link to /dev/null", err)
		os.Remove(dev)
		if err := os.Symlink("/dev/null", dev); err != nil {
			t.Fatal(err)
		}
	} else {
		f.Close()
	}
	before, _ := os.Lstat(dev)
	if err := write(t, dev, "discarded", Overwrite(true)); err != nil {
		t.Fatal(err)
	}
	after, err := os.Lstat(dev)
	if err != nil || after.Mode() != before.Mode() {
		t.Errorf("the device changed from %v to %v", before.Mode(), after.Mode())
	}
	if fi, _ := os.Stat(dev); fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("no longer a character device: %v", fi.Mode())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left behind: %v", names)
	}
}

// TestSignalRemovesTemporaryFile runs this test binary as a helper that blocks with an output
// pending, sends it each termination signal and checks the exit status and the folder.
func TestSignalRemovesTemporaryFile(t *testing.T) {
	if dir := os.Getenv("ATOMICFILE_HELPER_DIR"); dir != "" {
		helper(dir)
		return
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if signal.Ignored(sig) { // inherited by the children (the tests run under nohup): they keep ignoring it
			t.Logf("%v is ignored in this process: its case is skipped", sig)
			continue
		}
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestSignalRemovesTemporaryFile$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_DIR="+dir)
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("helper said %q (stderr %q)", line, stderr.String())
		}
		if n := len(entries(t, dir)); n != 3 {
			t.Errorf("%v: %v while pending, want the temporary file, the scratch file and done", sig, entries(t, dir))
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
			t.Errorf("%v: %v, want exit status %d", sig, err, 128+int(sig))
		}
		if !strings.Contains(stderr.String(), "not written: "+filepath.Join(dir, "out")) {
			t.Errorf("%v: the hook did not run: stderr %q", sig, stderr.String())
		}
		if names := entries(t, dir); len(names) != 1 || names[0] != "done" {
			t.Errorf("%v left %v, want only the committed output", sig, names)
		}
	}
}

// TestIgnoredSignalStaysIgnored: a process started with SIGHUP ignored (nohup) keeps ignoring it
// while an output is pending; the other signals still clean up.
func TestIgnoredSignalStaysIgnored(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `trap "" HUP; exec "$0" -test.run='^TestSignalRemovesTemporaryFile$'`, os.Args[0])
	cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_DIR="+dir)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	if n := len(entries(t, dir)); n != 3 {
		t.Errorf("after an ignored SIGHUP: %v, want the helper still running with its files", entries(t, dir))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("SIGTERM after an ignored SIGHUP: %v, want exit status %d", err, 128+int(syscall.SIGTERM))
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left %v", names)
	}
}

func helper(dir string) {
	OnSignal(func(sig os.Signal, outputs []string) {
		fmt.Fprintf(os.Stderr, "%v: not written: %s\n", sig, strings.Join(outputs, ", "))
	})
	a, err := Create(filepath.Join(dir, "out"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	io.WriteString(a, "partial")
	// A scratch file and a committed output, which the signal must leave alone.
	if _, _, err := Scratch(dir, ".spool-*"); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if err := WriteFile(filepath.Join(dir, "done"), func(w io.Writer) error { return nil }); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
	os.Exit(3)
}
