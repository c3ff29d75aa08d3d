//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// short keeps a failure message readable when a process dumped its goroutines.
func short(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// buildBinary builds mnistzip into a temporary folder (the signal tests need a process of their own).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mnistzip")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalsRemoveTemporaryFile: decompress, blocked on a pipe with its output half written, is
// sent SIGINT, SIGTERM, SIGHUP and SIGQUIT: each time it ends with status 128+signal and leaves
// neither the output nor its hidden temporary file (SIGHUP and SIGQUIT used to leave the latter).
func TestSignalsRemoveTemporaryFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	src := t.TempDir()
	input, _ := subset(t, src, 300)
	packed := filepath.Join(src, "digits.mz")
	if code, _, e := run(t, "compress", "-k", "-o", packed, input); code != 0 {
		t.Fatalf("compress: %s", e)
	}
	data, err := os.ReadFile(packed)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if signal.Ignored(sig) { // inherited by the children (the tests run under nohup): they keep ignoring it
			t.Logf("%v is ignored in this process: its case is skipped", sig)
			continue
		}
		dir := t.TempDir()
		out := filepath.Join(dir, "digits.idx")
		cmd := exec.Command(bin, "decompress", "-o", out, "-")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Half the file, and the pipe kept open: decompress waits for the rest with its output open.
		stdin.Write(data[:len(data)/2])
		tmpSeen := false
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !tmpSeen; time.Sleep(20 * time.Millisecond) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				tmpSeen = tmpSeen || strings.HasPrefix(e.Name(), ".digits.idx.tmp")
			}
		}
		if !tmpSeen {
			t.Errorf("%v: no temporary output appeared while decompress waited (stderr %q)", sig, short(stderr.String()))
		}
		if err := signalled(t, cmd, sig); err != nil {
			t.Errorf("%v (stderr %q)", err, short(stderr.String()))
		}
		stdin.Close()
		if !strings.Contains(stderr.String(), out+" not written") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("%v: stderr %q, want one line saying %s was not written", sig, short(stderr.String()), out)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("%v left %v", sig, names)
		}
	}
}

// TestSignalRemovesSpool: decompress -c spools its output to a scratch file (nothing reaches
// standard output until all of it decoded); SIGTERM while it waits for input removes that file too.
func TestSignalRemovesSpool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	src := t.TempDir()
	input, _ := subset(t, src, 300)
	packed := filepath.Join(src, "digits.mz")
	if code, _, e := run(t, "compress", "-k", "--level", "fast", "-o", packed, input); code != 0 {
		t.Fatalf("compress: %s", e)
	}
	data, err := os.ReadFile(packed)
	if err != nil {
		t.Fatal(err)
	}
	spool := t.TempDir()
	cmd := exec.Command(bin, "decompress", "-c", "-")
	cmd.Env = append(os.Environ(), "TMPDIR="+spool)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write(data[:len(data)/2])
	seen := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !seen; time.Sleep(20 * time.Millisecond) {
		entries, _ := os.ReadDir(spool)
		seen = len(entries) > 0
	}
	if !seen {
		t.Fatal("no spool file appeared while decompress -c waited")
	}
	if err := signalled(t, cmd, syscall.SIGTERM); err != nil {
		t.Error(err)
	}
	stdin.Close()
	if entries, _ := os.ReadDir(spool); len(entries) != 0 || stdout.Len() != 0 {
		t.Errorf("left %d files in its temporary folder and wrote %d bytes", len(entries), stdout.Len())
	}
}

// signalled sends sig to the running cmd and waits (30 s at most) for it to end with status
// 128+sig, the shell's convention; it returns what differed.
func signalled(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) error {
	t.Helper()
	cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v: %s did not end", sig, cmd.Args[1])
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
		return fmt.Errorf("%v: %v, want exit status %d", sig, err, 128+int(sig))
	}
	return nil
}
