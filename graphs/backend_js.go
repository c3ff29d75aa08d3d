//go:build js

package graphs

import (
	"errors"

	"github.com/gomlx/gomlx/backends"
)

// XLAAvailable reports whether this build can use XLA at all (native builds: yes; js/wasm: no).
const XLAAvailable = false

func installedXLAPlugin() (name, path string, ok bool) { return "", "", false }

func installedXLAPluginsInOrder() ([]string, map[string]string) { return nil, nil }

// InstalledXLAPlugins lists the PJRT plugins found: none under js/wasm.
func InstalledXLAPlugins() map[string]string { return nil }

func newXLA(string) (backends.Backend, error) {
	return nil, errors.New("XLA is not available in the WebAssembly build: use the \"go\" backend")
}

// InstallXLA is not possible in the browser.
func InstallXLA() error { return errors.New("XLA is not available in the WebAssembly build") }
