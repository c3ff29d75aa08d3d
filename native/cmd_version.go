package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise it comes from build info.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func init() {
	register(&command{
		name:    "version",
		summary: "Print the version, the GoMLX version and the backends this machine can run.",
		usage:   "[--backend SPEC | --pjrt-plugin PATH]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var b backendFlags
			b.add(fs) // which backend to start and describe (default: what auto picks)
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("version takes no arguments")
				}
				return func() error { return runVersion(b) }, nil
			}
		},
	})
	register(&command{
		name:    "install-xla",
		summary: "Download and install the PJRT plugins for XLA (CPU, and CUDA when a GPU is present) from GitHub into ~/.local/lib/go-xla. Without GitHub: make xla installs the CPU plugin from the Python package index.",
		usage:   "",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("install-xla takes no arguments")
				}
				return runInstallXLA, nil
			}
		},
	})
}

func runVersion(b backendFlags) error {
	fmt.Fprintf(stdout, "mnistzip %s (GoMLX %s, %s, %s/%s, %d CPUs)\n", toolVersion(), graphs.GoMLXVersion(),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	plugins := graphs.InstalledXLAPlugins()
	if len(plugins) == 0 {
		fmt.Fprintf(stdout, "XLA: no PJRT plugin installed (the CPU plugin: 'make xla' from the Python package index, or 'mnistzip install-xla' from GitHub; or set PJRT_PLUGIN_LIBRARY_PATH)\n")
	} else {
		names := make([]string, 0, len(plugins))
		for n := range plugins {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stdout, "XLA: PJRT plugin %q at %s\n", n, plugins[n])
		}
	}
	backend, choice, err := b.open()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backend %s → %s\n", choice.Spec, choice)
	fmt.Fprintf(stdout, "  %s\n", backend.Description())
	return nil
}

func runInstallXLA() error {
	if err := graphs.InstallXLA(); err != nil {
		return fmt.Errorf("%w (without access to GitHub, `make xla` in a checkout installs the CPU plugin from the Python package index: pip download xla-cpu-pjrt==0.0.1)", err)
	}
	return nil
}
