//go:build !js

package graphs

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
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

// installedXLAPlugins returns the PJRT plugins present on this machine in the order auto tries them:
// cuda, then cpu, then any other by name.
func installedXLAPluginsInOrder() (names []string, paths map[string]string) {
	paths = InstalledXLAPlugins()
	for _, preferred := range []string{"cuda", "cpu"} {
		if _, found := paths[preferred]; found {
			names = append(names, preferred)
		}
	}
	var rest []string
	for n := range paths {
		if n != "cuda" && n != "cpu" {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...), paths
}

// installedXLAPlugin returns the preferred PJRT plugin present on this machine.
func installedXLAPlugin() (name, path string, ok bool) {
	names, paths := installedXLAPluginsInOrder()
	if len(names) == 0 {
		return "", "", false
	}
	return names[0], paths[names[0]], true
}

// envPluginDirs are the folders of $MNISTZIP_XLA_DIR.
func envPluginDirs() []string {
	var dirs []string
	for _, d := range strings.Split(os.Getenv(XLAPluginDirEnv), ":") {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// binaryPluginDirs are where this project's own installs put plugins relative to the running binary:
// build/xla of the checkout whose bin/ holds it (`make xla` installs there), and xla/ beside it (a
// copied bundle). go-xla fixes its search path when the program starts, so these folders are searched
// here and the plugin is then loaded by its full path.
func binaryPluginDirs() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return nil
	}
	dir := filepath.Dir(exe)
	return []string{filepath.Join(dir, "..", "build", "xla"), filepath.Join(dir, "xla")}
}

// pluginName is the name go-xla gives the plugin file path: pjrt_c_api_NAME_plugin.so → NAME.
func pluginName(path string) string {
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "pjrt_c_api_"), "_plugin.so")
}

// InstalledXLAPlugins lists the PJRT plugins found (name → path), for `mnistzip version`:
// $MNISTZIP_XLA_DIR first (a user or make test naming a folder means that plugin), then go-xla's own
// search, then the folders beside the binary.
func InstalledXLAPlugins() map[string]string {
	plugins := map[string]string{}
	add := func(dirs []string) {
		for _, dir := range dirs {
			matches, _ := filepath.Glob(filepath.Join(dir, "pjrt_c_api_*_plugin.so"))
			for _, m := range matches {
				if _, taken := plugins[pluginName(m)]; !taken {
					if abs, err := filepath.Abs(m); err == nil {
						plugins[pluginName(m)] = filepath.Clean(abs)
					}
				}
			}
		}
	}
	add(envPluginDirs())
	for name, path := range pjrt.AvailablePlugins() {
		if _, taken := plugins[name]; !taken {
			plugins[name] = path
		}
	}
	add(binaryPluginDirs())
	return plugins
}

func newXLA(plugin string) (backends.Backend, error) {
	avoidBogusCUDADataDir(plugin)
	name, path := plugin, plugin
	if !filepath.IsAbs(plugin) {
		plugins := InstalledXLAPlugins()
		if plugin == "" {
			n, _, ok := installedXLAPlugin()
			if !ok {
				return nil, errNoPlugin("")
			}
			name = n
		}
		found := false
		if path, found = plugins[name]; !found {
			return nil, errNoPlugin(name)
		}
	} else {
		name = pluginName(path)
	}
	if err := checkPluginFile(path); err != nil {
		return nil, err
	}
	config := path
	if name == "cpu" {
		// GoMLX shares host memory with the CPU plugin only when it is loaded by name; by path it has
		// to be asked (without it every input and output is copied).
		config += ",shared_buffers"
	}
	options, err := clientOptionsFromEnv()
	if err != nil {
		return nil, err
	}
	if n, ok := hostDeviceCount(); ok && name == "cpu" {
		options["cpu_device_count"] = int64(n)
	}
	b, err := startXLA(config, options)
	if err != nil {
		hint := ""
		if strings.Contains(strings.ToLower(name), "cuda") {
			hint = " (are the NVIDIA driver and CUDA libraries installed?)"
		}
		return nil, fmt.Errorf("PJRT plugin %s failed to start%s: %w", path, hint, err)
	}
	return b, nil
}

// startXLA creates the PJRT client. go-xla v0.1.4 dereferences a nil API table when a plugin's
// GetPjrtApi returns none (it wraps a nil error, so it reports no failure): that panic becomes an error.
func startXLA(config string, options pjrt.NamedValuesMap) (b backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("it crashed while starting (%v): is it a PJRT plugin?", r)
		}
	}()
	return xla.NewWithOptions(config, options)
}

// hostDeviceCount reads XLA's usual --xla_force_host_platform_device_count=N from XLA_FLAGS. The PJRT
// CPU plugin ignores that flag (it shows 4 devices whatever it says) and takes the count as its
// cpu_device_count client option instead, so it is passed on as that.
func hostDeviceCount() (int, bool) {
	for _, f := range strings.Fields(os.Getenv("XLA_FLAGS")) {
		if v, ok := strings.CutPrefix(f, "--xla_force_host_platform_device_count="); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 1 {
				return n, true
			}
		}
	}
	return 0, false
}

// checkPluginFile catches the plugin files dlopen would reject with a less clear message (or not
// survive): missing, not a regular file, not an ELF shared object, or built for another machine.
func checkPluginFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("PJRT plugin %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("PJRT plugin %s: not a regular file", path)
	}
	if runtime.GOOS != "linux" {
		return nil // Mach-O and PE plugins: left to the loader's own checks
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("PJRT plugin %s is not a shared library (%v): reinstall it (make xla)", path, err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("PJRT plugin %s is built for %s, this machine is %s: install the %s build", path, f.Machine, runtime.GOARCH, runtime.GOARCH)
	}
	if f.Type != elf.ET_DYN {
		return fmt.Errorf("PJRT plugin %s is an ELF %s, not a shared library", path, f.Type)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("PJRT plugin %s: cannot read its symbols: %v", path, err)
	}
	for _, s := range syms {
		if s.Name == "GetPjrtApi" && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF {
			return nil
		}
	}
	return fmt.Errorf("PJRT plugin %s is a shared library but not a PJRT plugin: it defines no GetPjrtApi function", path)
}

var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}

func errNoPlugin(plugin string) error {
	what := "any PJRT plugin"
	if plugin != "" {
		what = fmt.Sprintf("the PJRT plugin %q (pjrt_c_api_%s_plugin.so)", plugin, plugin)
	}
	return fmt.Errorf("XLA backend needs %s, none installed: install the CPU plugin with `make xla` "+
		"(from the Python package index), or `mnistzip install-xla` (needs GitHub), or point "+
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
