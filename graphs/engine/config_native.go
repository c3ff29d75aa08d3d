//go:build !js

package engine

// defaultConfig is passed to simplego when New is called with an empty config.
const defaultConfig = ""
