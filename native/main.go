// Command mnistzip trains, evaluates and calibrates MNIST models and compresses MNIST files with them.
// It is a thin host: flags and printing live here, everything else in graphs/ and codec/.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// Exit codes follow GNU habits.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand. define declares its flags on fs and returns parse; parse checks every
// flag's value and the positional arguments and returns the work to do, having read and written
// nothing that lasts (tests call it alone). A bad value is a usageError naming the flag and its
// allowed range, so it fails before any data is loaded or graph compiled.
type command struct {
	name    string
	summary string
	usage   string // argument synopsis after the command name
	define  func(fs *pflag.FlagSet) (parse func(args []string) (run func() error, err error))
	// setup is the older form, a run function that checks as it goes (compress, decompress): used
	// when define is nil.
	setup func(fs *pflag.FlagSet) func(args []string) error
}

// parser defines c's flags on fs and returns its parse function.
func (c *command) parser(fs *pflag.FlagSet) func(args []string) (func() error, error) {
	if c.define != nil {
		return c.define(fs)
	}
	run := c.setup(fs)
	return func(args []string) (func() error, error) {
		return func() error { return run(args) }, nil
	}
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// stdout and stderr are the command's outputs (tests substitute buffers).
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func runMain(args []string, out, errOut io.Writer) int {
	stdout, stderr = out, errOut
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			if c, ok := commands[args[1]]; ok {
				fs := newFlagSet(c, errOut)
				c.parser(fs)
				fs.SetOutput(out)
				fs.Usage()
				return exitOK
			}
		}
		printUsage(out)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(errOut, "mnistzip: unknown command %q (see 'mnistzip --help')\n", args[0])
		return exitUsage
	}
	return invoke(c, args[1:], errOut, true)
}

// invoke parses args for c and checks them; with work it then runs the command. It returns the exit
// code, having reported any error on errOut in one line.
func invoke(c *command, args []string, errOut io.Writer, work bool) int {
	fs := newFlagSet(c, errOut)
	parse := c.parser(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(errOut, "mnistzip %s: %v (see 'mnistzip %s --help')\n", c.name, err, c.name)
		return exitUsage
	}
	run, err := parse(fs.Args())
	if err == nil && work {
		err = run()
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(errOut, "mnistzip %s: %v (see 'mnistzip %s --help')\n", c.name, oneLine(err), c.name)
			return exitUsage
		}
		if err != errAlreadyReported {
			fmt.Fprintf(errOut, "mnistzip %s: %v\n", c.name, oneLine(err))
		}
		return exitFailure
	}
	return exitOK
}

func newFlagSet(c *command, errOut io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet("mnistzip "+c.name, pflag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.SortFlags = false
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: mnistzip %s %s\n\n%s\n", c.name, c.usage, c.summary)
		if fs.HasFlags() {
			fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
		}
	}
	return fs
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, `mnistzip: MNIST models on GoMLX (pure Go or XLA) and a learned codec for MNIST files.

Usage: mnistzip COMMAND [flags] [args]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'mnistzip COMMAND --help' for a command's flags.\n")
}

// oneLine keeps error output to a single line, as scripts expect.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
