// Package xlatest gives tests the XLA CPU backend when `make xla` has installed its PJRT plugin.
//
// Without the plugin an XLA test is skipped, saying why, unless MNISTZIP_REQUIRE_XLA is set (make test
// sets it on CI, after make xla): then a missing or broken plugin fails the test instead.
package xlatest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs"
)

// RequireEnv makes a missing plugin a failure rather than a skip.
const RequireEnv = "MNISTZIP_REQUIRE_XLA"

var (
	once    sync.Once
	backend backends.Backend
	err     error
)

// Backend returns the shared XLA CPU backend (one PJRT client per test binary).
func Backend(t testing.TB) backends.Backend {
	t.Helper()
	once.Do(func() {
		if os.Getenv(graphs.XLAPluginDirEnv) == "" {
			if dir, ok := checkoutXLADir(); ok {
				_ = os.Setenv(graphs.XLAPluginDirEnv, dir)
			}
		}
		backend, _, err = graphs.NewBackend("xla:cpu")
	})
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("XLA CPU required (%s is set): %v", RequireEnv, err)
		}
		t.Skipf("XLA tests skipped: no XLA CPU plugin (run make xla): %v", err)
	}
	return backend
}

// checkoutXLADir finds build/xla in the checkout holding the working directory (go test runs in the
// package's folder): where `make xla` installs the plugin.
func checkoutXLADir() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			xla := filepath.Join(dir, "build", "xla")
			_, err := os.Stat(xla)
			return xla, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
