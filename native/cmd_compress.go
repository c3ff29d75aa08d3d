package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/mz"
	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/models/shipped"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// codecFlags are the gzip-like flags compress and decompress share.
type codecFlags struct {
	output                      *string
	stdout, keep, force, verify *bool
	model                       *string
}

func addCodecFlags(fs *pflag.FlagSet) codecFlags {
	return codecFlags{
		output: fs.StringP("output", "o", "", "output file (default: FILE.mz / FILE without .mz)"),
		stdout: fs.BoolP("stdout", "c", false, "write to standard output and keep the input"),
		keep:   fs.BoolP("keep", "k", false, "keep the input file"),
		force:  fs.BoolP("force", "f", false, "overwrite the output file"),
		verify: fs.Bool("verify", false, "decompress in memory and compare before reporting success"),
		model:  fs.String("model", "", "autoencoder weights (default: the ones built into mnistzip)"),
	}
}

// loadModel returns a loader of the autoencoder: --model's weights or the embedded default.
func (f codecFlags) loadModel() (mz.Autoencoder, error) {
	var w *weights.File
	var err error
	if *f.model != "" {
		w, err = weights.ReadFile(*f.model)
	} else {
		w, err = weights.Decode(shipped.AE)
	}
	if err != nil {
		return nil, err
	}
	backend, _, err := graphs.BitExactBackend() // never XLA: see BitExactBackend
	if err != nil {
		return nil, err
	}
	return mz.LoadModel(backend, w)
}

// paths resolves the input and output of a (de)compression: "-" is standard input; the output is
// standard output with -c or for standard input, else -o or the input's name changed by rename.
func (f codecFlags) paths(args []string, rename func(string) (string, error)) (in, out string, err error) {
	if len(args) != 1 {
		return "", "", usagef("want exactly one FILE (or - for standard input)")
	}
	in = args[0]
	switch {
	case *f.output != "":
		out = *f.output
	case *f.stdout || in == "-":
		out = "-"
	default:
		if out, err = rename(in); err != nil {
			return "", "", err
		}
	}
	if out == "-" && *f.output == "" && !*f.stdout && in != "-" {
		return "", "", usagef("use -c to write to standard output")
	}
	return in, out, nil
}

func readInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(bufio.NewReader(os.Stdin))
	}
	return os.ReadFile(path)
}

// writeOutput writes through fill to path ("-": standard output) atomically, then removes the input
// unless asked to keep it.
func (f codecFlags) writeOutput(in, out string, fill func(io.Writer) error) error {
	if out == "-" {
		// Spooled to a temporary file first: nothing reaches standard output unless it all
		// decoded and matched its checksum.
		tmp, err := os.CreateTemp("", "mnistzip-*")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		w := bufio.NewWriterSize(tmp, 1<<20)
		if err := fill(w); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err = io.Copy(stdout, tmp)
		return err
	}
	if err := checkOutput(in, out, *f.force); err != nil {
		return err
	}
	mode := os.FileMode(0o666) // like gzip: the input's permissions, else what os.Create gives
	if in != "-" {
		if info, err := os.Stat(in); err == nil {
			mode = info.Mode().Perm()
		}
	}
	a, err := createAtomic(out, *f.force, mode)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a, 1<<20)
	if err := fill(w); err != nil {
		a.abort()
		return err
	}
	if err := w.Flush(); err != nil {
		a.abort()
		return err
	}
	if err := a.commit(); err != nil {
		return err
	}
	if in != "-" && !*f.keep && !*f.stdout {
		return os.Remove(in)
	}
	return nil
}

// checkOutput refuses an output that exists (without force) or that is the input itself under
// another name (a hard link, ./x for x): renaming over it and then removing the input would lose both.
func checkOutput(in, out string, force bool) error {
	oi, err := os.Stat(out)
	if err != nil {
		return nil
	}
	if ii, err := os.Stat(in); in != "-" && err == nil && os.SameFile(ii, oi) {
		return fmt.Errorf("%s: the output %s is the input file", in, out)
	}
	if !force {
		return fmt.Errorf("%s already exists (use -f to overwrite)", out)
	}
	return nil
}

func progressFunc(verb string) (func(done, total int64), func()) {
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
			if bar == nil {
				bar = newBar(int(total), verb)
			}
			if bar != nil {
				_ = bar.Set(int(done))
			}
		}, func() {
			if bar != nil {
				_ = bar.Clear()
			}
		}
}

func init() {
	register(&command{
		name:    "compress",
		summary: "Compress an MNIST (IDX) file to .mz: lossless by default, or the autoencoder's codes only with --lossy.",
		usage:   "[-o OUT] [-c] [-k] [-f] [--lossy [--quality Q]] [--model W] [--verify] FILE|-",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			cf := addCodecFlags(fs)
			lossy := fs.Bool("lossy", false, "keep only the autoencoder's quantized codes; decompression gives its reconstructions")
			quality := fs.Int("quality", mz.DefaultQuality, fmt.Sprintf("lossy quality, 1 (smallest) to %d (closest)", mz.MaxQuality))
			hints := fs.Bool("ae-hints", false, "lossless: also try the autoencoder's reconstruction as pixel context, per chunk where smaller (slower)")
			return func(args []string) error {
				in, out, err := cf.paths(args, func(p string) (string, error) {
					if strings.HasSuffix(p, ".mz") {
						return "", fmt.Errorf("%s already has the .mz suffix", p)
					}
					return p + ".mz", nil
				})
				if err != nil {
					return err
				}
				if fs.Changed("quality") && !*lossy {
					return usagef("--quality needs --lossy")
				}
				if *quality < 1 || *quality > mz.MaxQuality {
					return usagef("--quality %d is not in 1…%d", *quality, mz.MaxQuality)
				}
				if out != "-" {
					if err := checkOutput(in, out, *cf.force); err != nil {
						return err // before the work, not after it
					}
				}
				raw, err := readInput(in)
				if err != nil {
					return err
				}
				h, data, err := idx.ReadAll(bytes.NewReader(raw), idx.MaxDataSize(-1))
				if err != nil {
					return fmt.Errorf("%s: %w", in, err)
				}
				gzipped := len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b
				opt := mz.Options{Lossy: *lossy, Quality: *quality, AEHints: *hints}
				if *lossy || *hints {
					if opt.Model, err = cf.loadModel(); err != nil {
						return err
					}
				}
				progress, clearBar := progressFunc("compressing")
				opt.Progress = progress
				start := time.Now()
				var packed bytes.Buffer
				st, err := mz.Compress(&packed, *h, data, opt)
				clearBar()
				if err != nil {
					return fmt.Errorf("%s: %w", in, err)
				}
				elapsed := time.Since(start)
				if *cf.verify {
					var back bytes.Buffer
					if _, err := mz.Decompress(bytes.NewReader(packed.Bytes()), &back, mz.DecompressOptions{Model: opt.Model}); err != nil {
						return fmt.Errorf("%s: verify: %w", in, err)
					}
					idxHead, _ := h.MarshalBinary()
					if !*lossy && (!bytes.Equal(back.Bytes()[:len(idxHead)], idxHead) || !bytes.Equal(back.Bytes()[len(idxHead):], data)) {
						return fmt.Errorf("%s: verify: %w", in, mz.ErrNotReproduced)
					}
				}
				if err := cf.writeOutput(in, out, func(w io.Writer) error { _, err := w.Write(packed.Bytes()); return err }); err != nil {
					return err
				}
				name := out
				if out == "-" {
					name = "standard output"
				}
				mode := "lossless"
				if *lossy {
					mode = fmt.Sprintf("lossy, quality %d", *quality)
				}
				note := ""
				if gzipped {
					note = " (input was gzip-compressed: decompression restores the raw IDX)"
				}
				if *cf.verify {
					note += ", verified"
				}
				fmt.Fprintf(stderr, "%s → %s: %s, %d → %d bytes (%.2f%%, %.3f bits per %s) in %s%s\n", in, name, mode,
					st.In, st.Out, 100*float64(st.Out)/float64(st.In), 8*float64(st.Out)/float64(len(data)), map[bool]string{true: "pixel", false: "data byte"}[h.Type == idx.Ubyte && len(h.Dims) == 3], formatDuration(elapsed), note)
				return nil
			}
		},
	})
	register(&command{
		name:    "decompress",
		summary: "Restore an IDX file from .mz (byte-exact for lossless files).",
		usage:   "[-o OUT] [-c] [-k] [-f] [--model W] FILE|-",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			cf := addCodecFlags(fs)
			return func(args []string) error {
				in, out, err := cf.paths(args, func(p string) (string, error) {
					if !strings.HasSuffix(p, ".mz") || len(p) == len(".mz") {
						return "", fmt.Errorf("%s: unknown suffix, want .mz (or name the output with -o)", p)
					}
					return strings.TrimSuffix(p, ".mz"), nil
				})
				if err != nil {
					return err
				}
				if *cf.verify {
					return usagef("--verify is a compress flag: decompression always checks the restored bytes' SHA-256")
				}
				var src io.Reader = os.Stdin
				if in != "-" {
					file, err := os.Open(in)
					if err != nil {
						return err
					}
					defer file.Close()
					src = file
				}
				progress, clearBar := progressFunc("decompressing")
				opt := mz.DecompressOptions{Progress: progress, LoadModel: func(id string) (mz.Autoencoder, error) { return cf.loadModel() }}
				err = cf.writeOutput(in, out, func(w io.Writer) error {
					_, err := mz.Decompress(src, w, opt)
					clearBar()
					return err
				})
				if err != nil && in != "-" && !strings.HasPrefix(err.Error(), in+":") {
					return fmt.Errorf("%s: %w", in, err)
				}
				return err
			}
		},
	})
}
