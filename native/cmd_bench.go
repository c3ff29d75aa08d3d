package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/bench"
)

// benchOptions are bench's flags, checked.
type benchOptions struct {
	specs, peerResults []string
	minTime            time.Duration
	skipOps            bool
	wasmResults        string
}

func init() {
	register(&command{
		name:    "bench",
		summary: "Time the training workloads W1-W4 and CNN inference on several backends next to peers, in one table of ratios.",
		usage:   "[--backends go,xla:cpu,xla:cpu@2] [--min-time 8s] [--wasm-results FILE] [--peer-results FILE]...",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o benchOptions
			fs.StringSliceVar(&o.specs, "backends", []string{"go", "simplego"}, "native backends to compare; BACKEND@N shards each batch across N devices (e.g. xla:cpu@2)")
			fs.DurationVar(&o.minTime, "min-time", 8*time.Second, "minimum timing per workload and backend (> 0)")
			fs.BoolVar(&o.skipOps, "no-ops", false, "skip the per-op GFLOP/s table")
			fs.StringVar(&o.wasmResults, "wasm-results", "", "output of `go test -bench` of graphs/bench under js/wasm (Node), added as column go-wasm")
			fs.StringSliceVar(&o.peerResults, "peer-results", nil, "JSON from bench/tfjs_bench.mjs or bench/keras_bench.py, added as columns (repeatable)")
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("bench takes no arguments")
				}
				if err := checkDuration("min-time", o.minTime, time.Millisecond, ""); err != nil {
					return nil, err
				}
				for _, s := range o.specs {
					if _, _, err := splitBenchSpec(s); err != nil {
						return nil, err
					}
				}
				return func() error { return runBench(o) }, nil
			}
		},
	})
}

func runBench(o benchOptions) error {
	extra, extraNames, notes, err := loadExtraResults(o.wasmResults, o.peerResults)
	if err != nil {
		return err
	}
	cols := make([]benchColumn, len(o.specs))
	for i, s := range o.specs {
		if cols[i], err = openBenchColumn(s); err != nil {
			return err
		}
	}
	printStepTable(cols, o.minTime, extra, extraNames)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	if !o.skipOps {
		// Single ops run on one device: columns sharded across several are left out.
		var bks []backends.Backend
		var names []string
		for _, c := range cols {
			if c.devices == 1 {
				bks, names = append(bks, c.backend), append(names, c.name)
			}
		}
		printOpTable(names, bks, o.minTime)
	}
	return nil
}

// benchColumn is one native backend of the table, possibly with its batches sharded across devices.
type benchColumn struct {
	name    string
	backend backends.Backend
	devices int
}

// splitBenchSpec reads a --backends entry: BACKEND or BACKEND@N (N devices).
func splitBenchSpec(spec string) (backend string, devices int, err error) {
	at := strings.LastIndex(spec, "@")
	if at < 0 {
		return spec, 1, nil
	}
	n, err := strconv.Atoi(spec[at+1:])
	if err != nil || n < 1 || n > 1024 {
		return "", 0, usagef("--backends %s: want BACKEND@N with N in 1…1024 devices", spec)
	}
	return spec[:at], n, nil
}

func openBenchColumn(spec string) (benchColumn, error) {
	c := benchColumn{name: spec}
	spec, devices, err := splitBenchSpec(spec)
	if err != nil {
		return c, err
	}
	c.devices = devices
	b, _, err := graphs.NewBackend(spec)
	if err != nil {
		return c, err
	}
	if c.devices > b.NumDevices() {
		return c, usagef("--backends %s: backend %s has %d device(s)", c.name, spec, b.NumDevices())
	}
	c.backend = b
	return c, nil
}

// benchRow is one workload: training steps or CNN inference calls.
type benchRow struct {
	name, description string
	flops             float64 // per step; 0 when not counted
	time              func(c benchColumn) bench.Result
	devicesApply      bool // whether sharding across devices applies (training steps)
}

// printStepTable prints seconds per step for every row and column, each cell with its ratio to the
// fastest cell of its row, then the first steps (graph building and compilation) apart.
func printStepTable(cols []benchColumn, minTime time.Duration, extra map[string]map[string]any, extraNames []string) {
	var rows []benchRow
	for _, w := range []*bench.Workload{bench.W1(), bench.W2(), bench.W3Small(), bench.W3(), bench.W4()} {
		rows = append(rows, benchRow{name: w.Name, description: w.Description, flops: w.FLOPs, devicesApply: true,
			time: func(c benchColumn) bench.Result { return bench.TimeOnDevices(c.backend, w, c.devices, 2, minTime) }})
	}
	for _, inf := range bench.InferenceCases() {
		rows = append(rows, benchRow{name: inf.Name, description: inf.Description,
			time: func(c benchColumn) bench.Result { return bench.TimeInference(c.backend, inf, minTime/4) }})
	}
	names := make([]string, 0, len(cols)+len(extraNames))
	for _, c := range cols {
		names = append(names, c.name)
	}
	names = append(names, extraNames...)
	const width = 19
	header := func(title string) {
		fmt.Fprintf(stdout, "%s\n%-5s %s", title, "", padRunes("workload", 70))
		for _, n := range names {
			fmt.Fprintf(stdout, " %*s", width, n)
		}
		if strings.HasPrefix(title, "Seconds") {
			fmt.Fprintf(stdout, " %7s", "GFLOP/s")
		}
		fmt.Fprintln(stdout)
	}
	header("Seconds per training step or inference call (lower is better); ×N = how many times the fastest in the row; GFLOP/s of the fastest")
	firsts := make([][]string, len(rows))
	for r, row := range rows {
		secs := make([]float64, len(names)) // 0: no number
		cells := make([]string, len(names))
		firsts[r] = make([]string, len(names))
		for i, c := range cols {
			if c.devices > 1 && !row.devicesApply {
				cells[i] = "—"
				continue
			}
			res := row.time(c)
			if res.Err != nil {
				cells[i] = "fails"
				continue
			}
			secs[i] = res.SecPerStep
			firsts[r][i] = fmt.Sprintf("%.2f", res.CompileSecs)
		}
		for j, n := range extraNames {
			i := len(cols) + j
			switch v := extra[row.name][n].(type) {
			case float64:
				secs[i] = v
			case string:
				cells[i] = "fails"
			default:
				cells[i] = "not run"
			}
			if f, ok := extra[row.name][n+" first step"].(float64); ok {
				firsts[r][i] = fmt.Sprintf("%.2f", f)
			}
		}
		fastest := 0.0
		for _, v := range secs {
			if v > 0 && (fastest == 0 || v < fastest) {
				fastest = v
			}
		}
		fmt.Fprintf(stdout, "%-5s %s", row.name, padRunes(row.description, 70))
		for i := range names {
			if secs[i] > 0 {
				cells[i] = fmt.Sprintf("%s (×%.2f)", formatSeconds(secs[i]), secs[i]/fastest)
			}
			fmt.Fprintf(stdout, " %*s", width, cells[i])
		}
		if row.flops > 0 && fastest > 0 {
			fmt.Fprintf(stdout, " %7.1f", row.flops/fastest/1e9)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout)
	header("First step or call, seconds: graph building, compilation and one step (not in the table above)")
	for r, row := range rows {
		fmt.Fprintf(stdout, "%-5s %s", row.name, padRunes(row.description, 70))
		for i := range names {
			cell := firsts[r][i]
			if cell == "" {
				cell = "—"
			}
			fmt.Fprintf(stdout, " %*s", width, cell)
		}
		fmt.Fprintln(stdout)
	}
}

// padRunes pads s with spaces to n characters (fmt's %-62s counts bytes, and descriptions hold × and →).
func padRunes(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// formatSeconds keeps three significant digits from 10 µs to minutes.
func formatSeconds(s float64) string {
	switch {
	case s >= 10:
		return fmt.Sprintf("%.1f", s)
	case s >= 0.1:
		return fmt.Sprintf("%.3f", s)
	case s >= 0.001:
		return fmt.Sprintf("%.4f", s)
	default:
		return fmt.Sprintf("%.6f", s)
	}
}

func printOpTable(specs []string, bks []backends.Backend, minTime time.Duration) {
	fmt.Fprintf(stdout, "\nOps, GFLOP/s (higher is better), each next to the matrix product with the same multiply-adds\n")
	fmt.Fprintf(stdout, "%-40s", "op")
	for _, s := range specs {
		fmt.Fprintf(stdout, " %10s", s)
	}
	fmt.Fprintln(stdout)
	for _, c := range bench.OpCases() {
		fmt.Fprintf(stdout, "%-40s", c.Name)
		for _, b := range bks {
			secs, err := bench.TimeOp(b, c, minTime/4)
			if err != nil {
				fmt.Fprintf(stdout, " %10s", "fails")
				continue
			}
			fmt.Fprintf(stdout, " %10.2f", c.FLOPs/secs/1e9)
		}
		fmt.Fprintln(stdout)
	}
}

var (
	wasmBenchLine = regexp.MustCompile(`Benchmark(W\d+s?)Engine\S*\s+\d+\s+.*?([0-9.]+) s/step`)
	// simplego prints this notice when configured, in the middle of the benchmark's result line.
	simplegoNotice = regexp.MustCompile(`SimpleGo backend: [^\n]*\n`)
)

// loadExtraResults reads the js/wasm and TensorFlow.js measurements made earlier in the same
// `make bench` run: workload → column → seconds per step (float64) or a failure message (string).
func loadExtraResults(wasmPath string, peerPaths []string) (extra map[string]map[string]any, names, notes []string, err error) {
	extra = map[string]map[string]any{}
	put := func(w, col string, v any) {
		if extra[w] == nil {
			extra[w] = map[string]any{}
		}
		extra[w][col] = v
	}
	if wasmPath != "" {
		text, err := os.ReadFile(wasmPath)
		if err != nil {
			return nil, nil, nil, err
		}
		clean := simplegoNotice.ReplaceAllString(string(text), "")
		for _, m := range wasmBenchLine.FindAllStringSubmatch(clean, -1) {
			secs, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", wasmPath, err)
			}
			put(m[1], "go-wasm (Node)", secs)
		}
		names = append(names, "go-wasm (Node)")
	}
	for _, peerPath := range peerPaths {
		text, err := os.ReadFile(peerPath)
		if err != nil {
			return nil, nil, nil, err
		}
		var peers map[string]map[string]any
		if err := json.Unmarshal(text, &peers); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", peerPath, err)
		}
		seen := map[string]bool{}
		for w, cols := range peers {
			if w == "versions" { // what the peer ran on, printed under the table
				var parts []string
				for _, k := range sortedKeys(cols) {
					parts = append(parts, fmt.Sprintf("%s %v", k, cols[k]))
				}
				notes = append(notes, fmt.Sprintf("peer versions (%s): %s", filepath.Base(peerPath), strings.Join(parts, ", ")))
				continue
			}
			for col, v := range cols {
				put(w, col, v)
				if !strings.HasSuffix(col, " first step") {
					seen[col] = true
				}
			}
		}
		names = append(names, sortedKeys(seen)...)
	}
	return extra, names, notes, nil
}
