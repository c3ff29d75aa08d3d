package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// atomicFile is an output file written under a temporary name in the same folder and renamed to its
// real name only by commit, so an error or Ctrl-C never leaves a partial file under the real name.
type atomicFile struct {
	*os.File
	path string
	once sync.Once
	stop func()
}

// createAtomic starts writing path with permissions mode (before the umask, as os.Create).
func createAtomic(path string, force bool, mode os.FileMode) (*atomicFile, error) {
	if _, err := os.Lstat(path); err == nil && !force {
		return nil, fmt.Errorf("%s already exists (use -f to overwrite)", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(mode &^ umask()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	a := &atomicFile{File: tmp, path: path}
	// Ctrl-C or a termination signal: remove the temporary file, then die as the signal asks.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			a.abort()
			fmt.Fprintf(os.Stderr, "mnistzip: interrupted; %s not written\n", path)
			code := 130
			if s == syscall.SIGTERM {
				code = 143
			}
			os.Exit(code)
		case <-done:
		}
	}()
	a.stop = func() { signal.Stop(sigs); close(done) }
	return a, nil
}

// commit flushes the file to disk and gives it its real name.
func (a *atomicFile) commit() error {
	var err error
	a.once.Do(func() {
		defer a.stop()
		if err = a.Sync(); err == nil {
			err = a.Close()
		} else {
			a.Close()
		}
		if err == nil {
			err = os.Rename(a.Name(), a.path)
		}
		if err != nil {
			os.Remove(a.Name())
		}
	})
	return err
}

// abort removes the temporary file (a no-op after commit).
func (a *atomicFile) abort() {
	a.once.Do(func() {
		defer a.stop()
		a.Close()
		os.Remove(a.Name())
	})
}

// umask returns the process's file mode creation mask (reading it means setting it, briefly).
func umask() os.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return os.FileMode(m)
}
