//go:build !js

package graphs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/go-xla/pkg/installer"
	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

func init() {
	// GoMLX's XLA backend downloads plugins from GitHub on first use by default. This project never
	// touches the network behind the user's back: plugins are installed explicitly (see README).
	xla.EnableAutoInstall(false)
}

// XLAAvailable reports whether this build can use XLA at all (native builds: yes; js/wasm: no).
const XLAAvailable = true

// installedXLAPlugin returns the preferred PJRT plugin present on this machine (cuda, then cpu, then any).
func installedXLAPlugin() (name, path string, ok bool) {
	plugins := pjrt.AvailablePlugins()
	for _, preferred := range []string{"cuda", "cpu"} {
		if p, found := plugins[preferred]; found {
			return preferred, p, true
		}
	}
	names := make([]string, 0, len(plugins))
	for n := range plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 0 {
		return names[0], plugins[names[0]], true
	}
	return "", "", false
}

// InstalledXLAPlugins lists the PJRT plugins found (name → path), for `mnistzip version`.
func InstalledXLAPlugins() map[string]string { return pjrt.AvailablePlugins() }

func newXLA(plugin string) (backends.Backend, error) {
	avoidBogusCUDADataDir(plugin)
	if filepath.IsAbs(plugin) {
		if _, err := os.Stat(plugin); err != nil {
			return nil, fmt.Errorf("PJRT plugin %s: %w", plugin, err)
		}
		return xla.New(plugin)
	}
	plugins := pjrt.AvailablePlugins()
	if plugin == "" {
		n, _, ok := installedXLAPlugin()
		if !ok {
			return nil, errNoPlugin("")
		}
		plugin = n
	}
	if _, found := plugins[plugin]; !found {
		return nil, errNoPlugin(plugin)
	}
	b, err := xla.New(plugin)
	if err != nil {
		return nil, fmt.Errorf("XLA plugin %q found but failed to start (for CUDA: are the NVIDIA driver and CUDA libraries installed?): %w", plugin, err)
	}
	return b, nil
}

func errNoPlugin(plugin string) error {
	what := "any PJRT plugin"
	if plugin != "" {
		what = fmt.Sprintf("the PJRT plugin %q (pjrt_c_api_%s_plugin.so)", plugin, plugin)
	}
	return fmt.Errorf("XLA backend needs %s, none installed: install with "+
		"`mnistzip install-xla` (needs internet), or point "+
		"PJRT_PLUGIN_LIBRARY_PATH at a folder holding one, or pass --backend xla:/abs/path/plugin.so; "+
		"use --backend go for the pure-Go engine", what)
}

// InstallXLA downloads and installs the PJRT plugins suited to this machine (CPU, and CUDA when a GPU
// is present) into GoMLX's usual folder (~/.local/lib/go-xla). Only ever called on explicit request.
func InstallXLA() error { return installer.AutoInstall("", true, installer.Normal) }

// avoidBogusCUDADataDir works around go-xla v0.1.4: after loading a plugin whose name mentions CUDA, with
// XLA_FLAGS unset, it sets XLA_FLAGS=--xla_gpu_cuda_data_dir=/home/janpf/.local/lib/go-xla/nvidia (a path
// left from its author's machine; see cudaPluginCheckDrivers in go-xla's pkg/pjrt/cuda_linux.go). XLA then
// looks for libdevice and ptxas there instead of in its own search path, and GPU compilation can fail.
// Its GOPJRT_CUDA_CHECKS switch turns that off; a user who sets either variable keeps their choice.
func avoidBogusCUDADataDir(plugin string) {
	name := strings.ToUpper(filepath.Base(plugin))
	if !strings.Contains(name, "CUDA") && !strings.Contains(name, "NVIDIA") && plugin != "" {
		return
	}
	if os.Getenv("GOPJRT_CUDA_CHECKS") == "" && !strings.Contains(os.Getenv("XLA_FLAGS"), "--xla_gpu_cuda_data_dir") {
		_ = os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
}
