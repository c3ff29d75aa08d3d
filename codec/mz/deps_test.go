package mz

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoGraphsImports: the codec imports nothing of graphs/ and nothing of GoMLX (data flows one
// way; a coder that needs a model takes it through the Autoencoder interface).
func TestNoGraphsImports(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to list the imports")
	}
	out, err := exec.Command(gotool, "list", "-deps", "github.com/mnistzip/mnistzip/codec/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 5 {
		t.Fatalf("go list -deps listed only %q", deps)
	}
	for _, dep := range deps {
		if strings.Contains(dep, "gomlx") || strings.HasPrefix(dep, "github.com/mnistzip/mnistzip/graphs") {
			t.Errorf("codec/ depends on %s", dep)
		}
	}
}
