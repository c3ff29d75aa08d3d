package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/graphs/zoo"
)

func init() {
	register(&command{
		name:    "models",
		summary: "List the model registry: each model's family, sizes, browser training and shipped weights.",
		usage:   "[--shipped]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			shipped := fs.Bool("shipped", false, "print only the shipped weights' names, one line (make models trains these)")
			family := fs.String("family", "", "only this family: autoencoder or classifier")
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("models takes no arguments")
				}
				if f := zoo.Family(*family); f != "" && f != zoo.Autoencoder && f != zoo.Classifier {
					return nil, usagef("--family %q: want autoencoder or classifier", *family)
				}
				keep := func(m *zoo.Model) bool { return *family == "" || string(m.Family) == *family }
				return func() error {
					if *shipped {
						var labels []string
						for _, m := range zoo.Models() {
							for _, size := range m.Shipped {
								if keep(m) {
									labels = append(labels, m.Label(size))
								}
							}
						}
						_, err := fmt.Fprintln(stdout, strings.Join(labels, " "))
						return err
					}
					for _, m := range zoo.Models() {
						if !keep(m) {
							continue
						}
						var notes []string
						if len(m.Sizes) > 0 {
							notes = append(notes, "sizes "+strings.Join(m.Sizes, ", "))
						}
						if m.Browser {
							notes = append(notes, "trains in the browser")
						}
						for _, size := range m.Shipped {
							notes = append(notes, "shipped: "+m.Label(size))
						}
						fmt.Fprintf(stdout, "%-9s %-11s %s", m.Name, m.Family, m.Summary)
						if len(notes) > 0 {
							fmt.Fprintf(stdout, " (%s)", strings.Join(notes, "; "))
						}
						fmt.Fprintln(stdout)
					}
					return nil
				}, nil
			}
		},
	})
}
