//go:build !unix

package atomicfile

import "os"

// terminationSignals: os.Interrupt is the one signal every other platform delivers (none under
// js/wasm, where Notify never fires).
var terminationSignals = []os.Signal{os.Interrupt}

func exitStatus(os.Signal) int { return 130 }
