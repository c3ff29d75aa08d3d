//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// terminationSignals are the signals that end a process by default and that a user or a terminal
// sends to stop one (SIGQUIT included: its goroutine dump is no reason to leave a file behind).
var terminationSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// exitStatus is what a shell reports for a death by sig: 128 + its number.
func exitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
