package main

import (
	"flag"
	"io"

	"k8s.io/klog/v2"
)

// go-xla logs through klog, to stderr by default: a skipped plugin file, for instance, printed a
// warning line before the error mnistzip reports itself. Every failure reaches the user as a returned
// error, so the log lines are dropped: one error, one line.
func init() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for name, value := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL"} {
		_ = fs.Set(name, value)
	}
	klog.SetOutput(io.Discard)
}
