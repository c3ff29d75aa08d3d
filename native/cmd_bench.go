package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/bench"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "Time the training workloads W1-W3 and single ops on the engine next to stock simplego and peers, in one table.",
		usage:   "[--backends go,simplego] [--min-time 8s] [--wasm-results FILE] [--peer-results FILE]",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			specs := fs.StringSlice("backends", []string{"go", "simplego"}, "native backends to compare; the first is the reference of every ratio")
			minTime := fs.Duration("min-time", 8*time.Second, "minimum timing per workload and backend")
			skipOps := fs.Bool("no-ops", false, "skip the per-op GFLOP/s table")
			wasmResults := fs.String("wasm-results", "", "output of `go test -bench` of graphs/bench under js/wasm (Node), added as column go-wasm")
			peerResults := fs.String("peer-results", "", "JSON from bench/tfjs_bench.mjs (TensorFlow.js in Node), added as columns")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("bench takes no arguments")
				}
				extra, extraNames, err := loadExtraResults(*wasmResults, *peerResults)
				if err != nil {
					return err
				}
				bks := make([]backends.Backend, len(*specs))
				for i, s := range *specs {
					if bks[i], _, err = graphs.NewBackend(s); err != nil {
						return err
					}
				}
				printStepTable(*specs, bks, *minTime, extra, extraNames)
				if !*skipOps {
					printOpTable(*specs, bks, *minTime)
				}
				return nil
			}
		},
	})
}

// printStepTable prints seconds per training step per backend, and every column's ratio to the first.
func printStepTable(specs []string, bks []backends.Backend, minTime time.Duration, extra map[string]map[string]any, extraNames []string) {
	fmt.Fprintf(stdout, "Training step, seconds (lower is better); ×N = how many times slower than %s; GFLOP/s of %s\n", specs[0], specs[0])
	fmt.Fprintf(stdout, "%-4s %-62s", "", "workload")
	for _, s := range append(append([]string{}, specs...), extraNames...) {
		fmt.Fprintf(stdout, " %17s", s)
	}
	fmt.Fprintf(stdout, " %8s\n", "GFLOP/s")
	for _, w := range []*bench.Workload{bench.W1(), bench.W2(), bench.W3Small(), bench.W3(), bench.W4()} {
		fmt.Fprintf(stdout, "%-4s %-62s", w.Name, w.Description)
		var ref float64
		cell := func(secs float64, failure string) {
			switch {
			case failure != "":
				fmt.Fprintf(stdout, " %17s", failure)
			case ref > 0:
				fmt.Fprintf(stdout, " %17s", fmt.Sprintf("%.3f (×%.2f)", secs, secs/ref))
			default:
				fmt.Fprintf(stdout, " %17.3f", secs)
			}
		}
		for i, b := range bks {
			r := bench.Time(b, w, 2, minTime)
			if r.Err != nil {
				cell(0, "cannot train")
				continue
			}
			cell(r.SecPerStep, "")
			if i == 0 {
				ref = r.SecPerStep
			}
		}
		for _, name := range extraNames {
			switch v := extra[w.Name][name].(type) {
			case float64:
				cell(v, "")
			case string:
				cell(0, "cannot train")
			default:
				cell(0, "not run")
			}
		}
		if ref > 0 {
			fmt.Fprintf(stdout, " %8.2f", w.FLOPs/ref/1e9)
		}
		fmt.Fprintln(stdout)
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
func loadExtraResults(wasmPath, peerPath string) (map[string]map[string]any, []string, error) {
	extra := map[string]map[string]any{}
	var names []string
	put := func(w, col string, v any) {
		if extra[w] == nil {
			extra[w] = map[string]any{}
		}
		extra[w][col] = v
	}
	if wasmPath != "" {
		text, err := os.ReadFile(wasmPath)
		if err != nil {
			return nil, nil, err
		}
		clean := simplegoNotice.ReplaceAllString(string(text), "")
		for _, m := range wasmBenchLine.FindAllStringSubmatch(clean, -1) {
			secs, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", wasmPath, err)
			}
			put(m[1], "go-wasm (Node)", secs)
		}
		names = append(names, "go-wasm (Node)")
	}
	if peerPath != "" {
		text, err := os.ReadFile(peerPath)
		if err != nil {
			return nil, nil, err
		}
		var peers map[string]map[string]any
		if err := json.Unmarshal(text, &peers); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", peerPath, err)
		}
		seen := map[string]bool{}
		for w, cols := range peers {
			for col, v := range cols {
				put(w, col, v)
				if !seen[col] {
					seen[col] = true
				}
			}
		}
		for _, col := range sortedKeys(seen) {
			names = append(names, col)
		}
	}
	return extra, names, nil
}
