package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal: its controlling side and the terminal a program writes to.
func openPTY(t *testing.T) (master, tty *os.File) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	var n uint32
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("no pseudo-terminal number: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("cannot unlock the pseudo-terminal: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("cannot open the terminal: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// TestCompressToTerminal: compressed bytes are not written to a terminal unless forced, as gzip
// refuses (they used to be).
func TestCompressToTerminal(t *testing.T) {
	master, tty := openPTY(t)
	got := make(chan int, 1)
	go func() { n, _ := io.Copy(io.Discard, master); got <- int(n) }() // a terminal's reader
	dir := t.TempDir()
	path, _ := subset(t, dir, 20)
	var e bytes.Buffer
	code := runMain([]string{"compress", "-c", path}, tty, &e)
	if !oneLineError(code, e.String(), "compressed data not written to a terminal (use -f to force)") {
		t.Errorf("compress -c to a terminal: exit %d: %s", code, e.String())
	}
	e.Reset()
	if code := runMain([]string{"compress", "-c", "-f", path}, tty, &e); code != 0 {
		t.Errorf("compress -c -f to a terminal: exit %d: %s", code, e.String())
	}
	tty.Close()
	select {
	case n := <-got:
		if n == 0 {
			t.Error("compress -c -f wrote nothing to the terminal")
		}
	case <-time.After(10 * time.Second):
	}
	if left := leftovers(t, dir, "digits.idx"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestCompressHugeStream: the raw (not gzip) hostile input through a pipe, as `cat x | compress -`
// would give it: coded chunk by chunk in bounded memory (it used to be read whole), refused as
// truncated when the writer stops, with no output file.
func TestCompressHugeStream(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "huge.idx")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	const fed = 320 << 20
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		head, _ := hugeHeader.MarshalBinary()
		f.Write(head)
		io.Copy(f, io.LimitReader(zeroReader{}, fed))
	}()
	out := filepath.Join(dir, "huge.mz")
	var code int
	var e string
	peak := peakHeap(func() { code, _, e = runWithin(t, 120*time.Second, "compress", "-k", "-o", out, fifo) })
	t.Logf("%s claimed, %d MiB through a FIFO: peak heap %.1f MiB", hugeHeader, fed>>20, float64(peak)/(1<<20))
	if !oneLineError(code, e, "truncated data") {
		t.Errorf("exit %d: %s", code, e)
	}
	if peak > 256<<20 {
		t.Errorf("peak heap %.0f MiB, want < 256 MiB", float64(peak)/(1<<20))
	}
	if left := leftovers(t, dir, "huge.idx"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
