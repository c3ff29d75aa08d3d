//go:build !js

package graphs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/go-xla/pkg/pjrt"
)

// XLAOptionsEnv names the PJRT client options passed to every XLA plugin this process starts, as
// comma-separated NAME=VALUE pairs: true/false is a bool, an integer an int64, another number a float
// and anything else a string. The plugin defines the names and refuses unknown ones. The CUDA plugin's
// allocator options are the usual reason: by default it takes 75% of the GPU's memory when it starts,
// so a second process on the same GPU fails; "preallocate=false,memory_fraction=0.3" lets several
// trainings share one GPU (JAX's XLA_PYTHON_CLIENT_PREALLOCATE and _MEM_FRACTION set the same options,
// but only its Python layer reads those variables, not the plugin).
const XLAOptionsEnv = "MNISTZIP_XLA_OPTIONS"

// clientOptionsFromEnv parses $MNISTZIP_XLA_OPTIONS; never nil, so callers may add to it.
func clientOptionsFromEnv() (pjrt.NamedValuesMap, error) {
	return parseClientOptions(os.Getenv(XLAOptionsEnv))
}

func parseClientOptions(spec string) (pjrt.NamedValuesMap, error) {
	options := pjrt.NamedValuesMap{}
	for _, pair := range strings.Split(spec, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, value, found := strings.Cut(pair, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !found || name == "" {
			return nil, fmt.Errorf("$%s: %q is not NAME=VALUE (e.g. preallocate=false,memory_fraction=0.3)", XLAOptionsEnv, pair)
		}
		if _, twice := options[name]; twice {
			return nil, fmt.Errorf("$%s: option %q given twice", XLAOptionsEnv, name)
		}
		v := parseOptionValue(value)
		if f, isFloat := v.(float32); isFloat && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
			return nil, fmt.Errorf("$%s: option %q is %s: want a finite number", XLAOptionsEnv, name, value)
		}
		options[name] = v
	}
	return options, nil
}

// parseOptionValue types a value the way PJRT options are typed: bool, int64, float32 or string.
func parseOptionValue(v string) any {
	if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		return b
	}
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 32); err == nil || errors.Is(err, strconv.ErrRange) {
		return float32(f) // out of range: ±Inf, which the caller refuses
	}
	return v
}
