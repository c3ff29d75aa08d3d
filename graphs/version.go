package graphs

import "runtime/debug"

// GoMLXVersion is the GoMLX module version this binary was built with (from the build info).
func GoMLXVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/gomlx/gomlx" {
				return d.Version
			}
		}
	}
	return "unknown"
}
