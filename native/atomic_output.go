package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
)

// Outputs are written through codec/atomicfile: a temporary file renamed on commit, a device or FIFO
// written in place, a directory refused, and on SIGINT, SIGTERM, SIGHUP or SIGQUIT the temporary
// files removed and the process ended with status 128+signal. This line says what was lost.
func init() {
	atomicfile.OnSignal(func(sig os.Signal, outputs []string) {
		if len(outputs) > 0 {
			fmt.Fprintf(os.Stderr, "mnistzip: %v; %s not written\n", sig, strings.Join(outputs, ", "))
		}
	})
}

// atomicFile is an output file committed whole or not at all (see codec/atomicfile).
type atomicFile struct{ *atomicfile.File }

// createAtomic starts writing path; a new file gets permissions mode (before the umask, as
// os.Create). An existing path is replaced (or a device written) only with force.
func createAtomic(path string, force bool, mode os.FileMode) (*atomicFile, error) {
	f, err := atomicfile.Create(path, atomicfile.Overwrite(force), atomicfile.Perm(mode))
	if err != nil {
		return nil, outputError(path, err)
	}
	return &atomicFile{f}, nil
}

// checkOutputPath fails at once for an output that Create would refuse later (an existing file
// without force, a directory, a missing folder): before a long run, not after it.
func checkOutputPath(path string, force bool) error {
	return outputError(path, atomicfile.Check(path, atomicfile.Overwrite(force)))
}

// outputError words atomicfile's refusal of an existing output the CLI's way.
func outputError(path string, err error) error {
	if errors.Is(err, atomicfile.ErrExist) {
		return fmt.Errorf("%s already exists (use -f to overwrite)", path)
	}
	return err
}

// commit flushes the file to disk and gives it its real name.
func (a *atomicFile) commit() error { return a.Commit() }

// abort removes the temporary file (a no-op after commit).
func (a *atomicFile) abort() { _ = a.Abort() }
