package atomicfile

import (
	"os"
	"os/signal"
)

var (
	sigs     chan os.Signal // created with the handler goroutine, on the first Create
	watching bool           // signal.Notify is in effect (mu held to change it)
	onSignal func(sig os.Signal, outputs []string)
)

// OnSignal sets a function the signal handler calls after removing the pending temporary files and
// before ending the process, with the outputs that were not written (a host prints a line). It runs
// with the package's lock held: it must not call this package.
func OnSignal(fn func(sig os.Signal, outputs []string)) {
	mu.Lock()
	defer mu.Unlock()
	onSignal = fn
}

// watched are the termination signals the process does not ignore, fixed at the first watch: a
// process started under nohup (SIGHUP ignored) or in the background of a script (SIGINT ignored) must
// keep ignoring them, and Notify would undo that.
var watched []os.Signal

// watchSignals routes the termination signals to the handler (mu held).
func watchSignals() {
	if watching {
		return
	}
	if sigs == nil {
		for _, s := range terminationSignals {
			if !signal.Ignored(s) {
				watched = append(watched, s)
			}
		}
		sigs = make(chan os.Signal, 1)
		go handleSignals()
	}
	if len(watched) == 0 {
		return
	}
	signal.Notify(sigs, watched...)
	watching = true
}

// unwatchSignals gives the signals back their default behaviour once nothing is pending (mu held).
func unwatchSignals() {
	if !watching || len(pending) > 0 {
		return
	}
	signal.Stop(sigs)
	watching = false
}

// handleSignals cleans up and exits on the first signal. A signal that raced with the last Commit
// finds nothing to remove and still ends the process, as the user asked.
func handleSignals() {
	sig := <-sigs
	mu.Lock()
	outputs := removePending()
	if onSignal != nil {
		onSignal(sig, outputs)
	}
	os.Exit(exitStatus(sig))
}
