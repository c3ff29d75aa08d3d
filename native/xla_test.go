package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mnistzip/mnistzip/graphs/xlatest"
)

// TestBadXLASetup: every broken XLA setup gets one clear error line and exit 1 (2 for a bad flag
// value), never a crash: no plugin of that name, a corrupt file, a library for another machine, a
// shared library that is no PJRT plugin, a plugin whose start fails, and more --devices than exist.
func TestBadXLASetup(t *testing.T) {
	dir := t.TempDir()
	plugin := func(name string, data []byte) string {
		p := filepath.Join(dir, "pjrt_c_api_"+name+"_plugin.so")
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cc := func(name, src string) string { // a real x86-64 shared library, built with gcc
		c := filepath.Join(dir, name+".c")
		if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "pjrt_c_api_"+name+"_plugin.so")
		if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", p, c).CombinedOutput(); err != nil {
			t.Skipf("gcc: %v: %s", err, out)
		}
		return p
	}
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i>>3)
	}
	noPlugin := cc("nosym", "int answer(void) { return 42; }")
	nullAPI := cc("nullapi", "void *GetPjrtApi(void) { return 0; }")
	lib, err := os.ReadFile(noPlugin)
	if err != nil {
		t.Fatal(err)
	}
	arm := append([]byte{}, lib...)
	arm[18], arm[19] = 0xb7, 0x00 // e_machine: EM_AARCH64
	train := []string{"train", "--model", "dense", "--max-steps", "1", "--data", "../data/mnist", "-f", "-o", filepath.Join(dir, "w.safetensors")}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no such plugin", []string{"--backend", "xla:nope"}, 1, `needs the PJRT plugin "nope"`},
		{"missing file", []string{"--pjrt-plugin", filepath.Join(dir, "absent.so")}, 2, "no such file"},
		{"corrupt file", []string{"--pjrt-plugin", plugin("corrupt", random)}, 1, "is not a shared library"},
		{"another architecture", []string{"--pjrt-plugin", plugin("arm", arm)}, 1, "is built for EM_AARCH64"},
		{"not a PJRT plugin", []string{"--pjrt-plugin", noPlugin}, 1, "defines no GetPjrtApi function"},
		{"fails to start", []string{"--pjrt-plugin", nullAPI}, 1, "failed to start"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, append(append([]string{}, train...), tc.args...)...)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if code != tc.code || len(lines) != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q: want one line containing %q", code, tc.code, errOut, tc.want)
			}
		})
	}
	t.Run("more devices than there are", func(t *testing.T) {
		xlatest.Backend(t) // skips without the plugin
		t.Setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
		code, _, errOut := run(t, append(append([]string{}, train...), "--backend", "xla:cpu", "--devices", "3", "--batch", "96")...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "has 2 device(s)") {
			t.Errorf("--devices 3 on 2 devices: exit %d, stderr %q", code, errOut)
		}
	})
}
