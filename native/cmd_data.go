package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/mnist"
)

// dataOptions are data's flags, checked, and its action.
type dataOptions struct {
	action, from, data, out string
	n                       int
}

func init() {
	register(&command{
		name:    "data",
		summary: "Install the canonical MNIST files (SHA-256 checked) and make the small testdata subsets.",
		usage: `install --from DIR [--data DIR]   copy and verify the four MNIST .gz files from DIR
       mnistzip data verify [--data DIR]               check the installed files' SHA-256
       mnistzip data subset [--data DIR] [--n N] [-o DIR]  first N train and N test digits as raw IDX`,
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o dataOptions
			fs.StringVar(&o.from, "from", "", "folder holding the four MNIST .gz files (make data passes the GoMNIST module's data/ folder)")
			fs.StringVar(&o.data, "data", mnist.DefaultDir, "MNIST data folder")
			fs.IntVar(&o.n, "n", 1000, fmt.Sprintf("subset: digits per split, 1…%d", mnist.TestSize))
			fs.StringVarP(&o.out, "output", "o", "testdata", "subset: output folder")
			return func(args []string) (func() error, error) {
				// The test split is the smaller: a subset takes as many digits from each.
				if err := checkInt("n", o.n, 1, mnist.TestSize, ""); err != nil {
					return nil, err
				}
				if len(args) != 1 {
					return nil, usagef("data needs one action: install, verify or subset")
				}
				o.action = args[0]
				switch o.action {
				case "install":
					if o.from == "" {
						return nil, usagef("data install needs --from DIR")
					}
				case "verify":
				case "subset":
					for _, p := range subsetPaths(o) {
						if err := checkOutputPath(p, true); err != nil {
							return nil, err
						}
					}
				default:
					return nil, usagef("unknown data action %q: want install, verify or subset", o.action)
				}
				return func() error { return runData(o) }, nil
			}
		},
	})
}

// subsetPaths are the four files data subset writes: images and labels of train, then of test.
func subsetPaths(o dataOptions) []string {
	var paths []string
	for _, prefix := range []string{"train", "t10k"} {
		paths = append(paths,
			filepath.Join(o.out, fmt.Sprintf("%s-%d-images-idx3-ubyte", prefix, o.n)),
			filepath.Join(o.out, fmt.Sprintf("%s-%d-labels-idx1-ubyte", prefix, o.n)))
	}
	return paths
}

func runData(o dataOptions) error {
	switch o.action {
	case "install":
		if err := mnist.Install(o.from, o.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "MNIST installed in %s (SHA-256 verified)\n", o.data)
		return nil
	case "verify":
		if err := mnist.Verify(o.data); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: the four MNIST files are present and match their SHA-256\n", o.data)
		return nil
	}
	paths := subsetPaths(o)
	for i, split := range []mnist.Split{mnist.Train, mnist.Test} {
		set, err := mnist.Load(o.data, split)
		if err != nil {
			return err
		}
		if o.n > set.N {
			return usagef("--n %d: the %s set holds %d digits", o.n, split, set.N)
		}
		images, labels := paths[2*i], paths[2*i+1]
		if err := mnist.WriteSubset(set, 0, o.n, images, labels); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", images, labels)
	}
	return nil
}
