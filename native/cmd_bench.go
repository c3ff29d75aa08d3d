package main

import (
	"fmt"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/bench"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "Time the engine's training workloads (W1 dense AE, W2 CNN) and ops next to stock simplego, in one run.",
		usage:   "[--backends go,simplego] [--min-time 10s]",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			specs := fs.StringSlice("backends", []string{"go", "simplego"}, "backends to compare (first is the reference row of each ratio)")
			minTime := fs.Duration("min-time", 8*time.Second, "minimum timing per workload and backend")
			skipOps := fs.Bool("no-ops", false, "skip the per-op GFLOP/s table")
			return func(args []string) error {
				if len(args) > 0 {
					return usagef("bench takes no arguments")
				}
				bks := make([]backends.Backend, len(*specs))
				for i, s := range *specs {
					b, _, err := graphs.NewBackend(s)
					if err != nil {
						return err
					}
					bks[i] = b
				}
				fmt.Fprintf(stdout, "Training steps (seconds per step; GFLOP/s counts matrix-product and convolution work only)\n")
				fmt.Fprintf(stdout, "%-4s %-58s", "", "workload")
				for _, s := range *specs {
					fmt.Fprintf(stdout, " %12s", s+" s/step")
				}
				fmt.Fprintf(stdout, " %9s %8s\n", "GFLOP/s", "ratio")
				for _, w := range []*bench.Workload{bench.W1(), bench.W2(), bench.W3Small(), bench.W3()} {
					fmt.Fprintf(stdout, "%-4s %-58s", w.Name, w.Description)
					var first, last float64
					for i, b := range bks {
						r := bench.Time(b, w, 2, *minTime)
						if r.Err != nil {
							fmt.Fprintf(stdout, " %12s", "fails")
							continue
						}
						fmt.Fprintf(stdout, " %12.3f", r.SecPerStep)
						if i == 0 {
							first = r.SecPerStep
						}
						last = r.SecPerStep
					}
					gflops, ratio := "", "n/a"
					if first > 0 {
						gflops = fmt.Sprintf("%.2f", w.FLOPs/first/1e9)
					}
					if first > 0 && last > 0 && len(bks) > 1 && last != first {
						ratio = fmt.Sprintf("%.1f×", last/first)
					}
					fmt.Fprintf(stdout, " %9s %8s\n", gflops, ratio)
				}
				if *skipOps {
					return nil
				}
				fmt.Fprintf(stdout, "\nOps (GFLOP/s; each next to the matrix product with the same multiply-adds)\n")
				fmt.Fprintf(stdout, "%-40s", "op")
				for _, s := range *specs {
					fmt.Fprintf(stdout, " %10s", s)
				}
				fmt.Fprintln(stdout)
				for _, c := range bench.OpCases() {
					fmt.Fprintf(stdout, "%-40s", c.Name)
					for _, b := range bks {
						secs, err := bench.TimeOp(b, c, *minTime/4)
						if err != nil {
							fmt.Fprintf(stdout, " %10s", "fails")
							continue
						}
						fmt.Fprintf(stdout, " %10.2f", c.FLOPs/secs/1e9)
					}
					fmt.Fprintln(stdout)
				}
				return nil
			}
		},
	})
}
