package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
)

func init() {
	register(&command{
		name:    "data",
		summary: "Install the canonical MNIST files (SHA-256 checked) and make the small testdata subsets.",
		usage: `install --from DIR [--data DIR]   copy and verify the four MNIST .gz files from DIR
       mnistzip data verify [--data DIR]               check the installed files' SHA-256
       mnistzip data subset [--data DIR] [--n N] [-o DIR]  first N train and N test digits as raw IDX`,
		setup: func(fs *pflag.FlagSet) func([]string) error {
			from := fs.String("from", "", "folder holding the four MNIST .gz files (make data passes the GoMNIST module's data/ folder)")
			dataDir := fs.String("data", mnist.DefaultDir, "MNIST data folder")
			n := fs.Int("n", 1000, "subset: digits per split")
			out := fs.StringP("output", "o", "testdata", "subset: output folder")
			return func(args []string) error {
				if len(args) != 1 {
					return usagef("data needs one action: install, verify or subset")
				}
				switch args[0] {
				case "install":
					if *from == "" {
						return usagef("data install needs --from DIR")
					}
					if err := mnist.Install(*from, *dataDir); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "MNIST installed in %s (SHA-256 verified)\n", *dataDir)
					return nil
				case "verify":
					if err := mnist.Verify(*dataDir); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "%s: the four MNIST files are present and match their SHA-256\n", *dataDir)
					return nil
				case "subset":
					if *n <= 0 {
						return usagef("--n must be positive")
					}
					for _, split := range []mnist.Split{mnist.Train, mnist.Test} {
						set, err := mnist.Load(*dataDir, split)
						if err != nil {
							return err
						}
						if *n > set.N {
							return usagef("--n %d larger than the %s set (%d)", *n, split, set.N)
						}
						prefix := map[mnist.Split]string{mnist.Train: "train", mnist.Test: "t10k"}[split]
						images := filepath.Join(*out, fmt.Sprintf("%s-%d-images-idx3-ubyte", prefix, *n))
						labels := filepath.Join(*out, fmt.Sprintf("%s-%d-labels-idx1-ubyte", prefix, *n))
						if err := mnist.WriteSubset(set, 0, *n, images, labels); err != nil {
							return err
						}
						fmt.Fprintf(stdout, "wrote %s and %s\n", images, labels)
					}
					return nil
				default:
					return usagef("unknown data action %q: want install, verify or subset", args[0])
				}
			}
		},
	})
}
