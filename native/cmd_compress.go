package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/mz"
	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/codecmodel"
	"github.com/mnistzip/mnistzip/graphs/models/shipped"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// The GoMLX autoencoder is the codec's model: this host wires the two.
var _ mz.Autoencoder = (*codecmodel.Model)(nil)

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
		force:  fs.BoolP("force", "f", false, "overwrite the output file (and write compressed data to a terminal)"),
		verify: fs.Bool("verify", false, "decompress the output as it is written and check it restores the input before reporting success"),
		model:  fs.String("model", "", "autoencoder weights (default: the ones built into mnistzip)"),
	}
}

// loadModel loads the autoencoder: --model's weights or the embedded default.
func (f codecFlags) loadModel(id string, lossy bool) (mz.Autoencoder, error) {
	var w *weights.File
	var err error
	if *f.model != "" {
		w, err = weights.ReadFile(*f.model)
	} else {
		w, err = builtInModel(id, lossy)
	}
	if err != nil {
		return nil, err
	}
	backend, _, err := graphs.BitExactBackend() // never XLA: see BitExactBackend
	if err != nil {
		return nil, err
	}
	m, err := codecmodel.Load(backend, w)
	switch {
	case err != nil && *f.model != "":
		return nil, fmt.Errorf("--model %s: %w", *f.model, err)
	case err != nil:
		return nil, err
	}
	return m, nil
}

// builtInModel picks an embedded autoencoder: a decoder's by the id its file names (lossy files
// written before the rate-distortion model name the plain one), an encoder's (id "") by use: the
// rate-distortion one for lossy codes, the plain one for lossless hints. An id neither has gets the
// default, which the decoder then reports as the wrong model.
func builtInModel(id string, lossy bool) (*weights.File, error) {
	if !shipped.Embedded() {
		return nil, errors.New("this mnistzip was built without its autoencoders (-tags noembed, as make gpu-bundle builds it): pass --model WEIGHTS")
	}
	plain, err := weights.Decode(shipped.AE)
	if err != nil {
		return nil, err
	}
	rd, err := weights.Decode(shipped.LossyAE)
	if err != nil {
		return nil, err
	}
	plainID, err := plain.ID()
	if err != nil {
		return nil, err
	}
	rdID, err := rd.ID()
	if err != nil {
		return nil, err
	}
	switch {
	case id == plainID:
		return plain, nil
	case id == rdID || (id == "" && lossy):
		return rd, nil
	case id == "":
		return plain, nil
	}
	return rd, nil
}

// modelLoader loads the model on first use only (files that need none never pay for it), once;
// lossy says what an encoder wants it for.
func (f codecFlags) modelLoader(lossy bool) func(string) (mz.Autoencoder, error) {
	var once sync.Once
	var m mz.Autoencoder
	var err error
	return func(id string) (mz.Autoencoder, error) {
		once.Do(func() { m, err = f.loadModel(id, lossy) })
		return m, err
	}
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

// openInput opens path ("-": standard input) for streaming.
func openInput(path string) (io.Reader, func(), error) {
	if path == "-" {
		return bufio.NewReaderSize(os.Stdin, 1<<20), func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return bufio.NewReaderSize(f, 1<<20), func() { f.Close() }, nil
}

// stdoutIsTerminal reports whether the command's standard output is a terminal.
func stdoutIsTerminal() bool {
	f, ok := stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeOutput writes through fill to path ("-": standard output) atomically, then removes the input
// unless asked to keep it. The output file is created at fill's first write, so an input refused on
// its header leaves nothing behind, not even for a moment.
func (f codecFlags) writeOutput(in, out string, fill func(io.Writer) error) error {
	if out == "-" {
		// Spooled to a temporary file first: nothing reaches standard output unless it all
		// decoded and matched its checksum. A scratch file of atomicfile's: a signal removes it too.
		tmp, remove, err := atomicfile.Scratch("", "mnistzip-*")
		if err != nil {
			return err
		}
		defer remove()
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
	if err := checkOutputPath(out, *f.force); err != nil {
		return err // a missing folder, say: before the work
	}
	mode := os.FileMode(0o666) // like gzip: the input's permissions, else what os.Create gives
	if in != "-" {
		if info, err := os.Stat(in); err == nil {
			mode = info.Mode().Perm()
		}
	}
	lf := &lazyOutput{create: func() (*atomicFile, error) { return createAtomic(out, *f.force, mode) }}
	err := fill(lf)
	if lf.err != nil {
		return lf.err // the output's own error, not the input's
	}
	if err == nil && lf.file == nil {
		_, err = lf.Write(nil) // an empty output (no .mz file is, but the file must exist)
	}
	if err == nil {
		err = lf.w.Flush()
	}
	if err != nil {
		if lf.file != nil {
			lf.file.abort()
		}
		return err
	}
	if err := lf.file.commit(); err != nil {
		return err
	}
	if in != "-" && !*f.keep && !*f.stdout {
		return os.Remove(in)
	}
	return nil
}

// lazyOutput creates the atomic output file at the first write.
type lazyOutput struct {
	create func() (*atomicFile, error)
	file   *atomicFile
	w      *bufio.Writer
	err    error
}

func (l *lazyOutput) Write(p []byte) (int, error) {
	if l.file == nil {
		if l.err == nil {
			l.file, l.err = l.create()
		}
		if l.err != nil {
			return 0, l.err
		}
		l.w = bufio.NewWriterSize(l.file, 1<<20)
	}
	return l.w.Write(p)
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
				bar = newBar(int(min(total, 1<<31-1)), verb)
			}
			if bar != nil {
				_ = bar.Set(int(min(done, 1<<31-1)))
			}
		}, func() {
			if bar != nil {
				_ = bar.Clear()
			}
		}
}

// compressFlags are compress's flags.
type compressFlags struct {
	codecFlags
	lossy, hints   *bool
	quality        *int
	qualityChanged func() bool
	level          *string
	levelChanged   func() bool
}

func init() {
	register(&command{
		name:    "compress",
		summary: "Compress an MNIST (IDX) file to .mz: lossless by default, or the autoencoder's codes only with --lossy.",
		usage:   "[-o OUT] [-c] [-k] [-f] [--level best|fast] [--lossy [--quality Q]] [--ae-hints] [--model W] [--verify] FILE|-",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			f := compressFlags{codecFlags: addCodecFlags(fs)}
			f.lossy = fs.Bool("lossy", false, "keep only the autoencoder's quantized codes; decompression gives its reconstructions")
			f.quality = fs.Int("quality", mz.DefaultQuality, fmt.Sprintf("lossy quality, 1 (smallest) to %d (closest)", mz.MaxQuality))
			f.hints = fs.Bool("ae-hints", false, "lossless: also try the autoencoder's reconstruction as pixel context, per chunk where smaller (slower)")
			f.level = fs.String("level", mz.DefaultLevel.String(), "lossless images: best (context mixing, ~0.95 bits/pixel, ~13 s per 10,000 images per core; format version 2) or fast (pixel-context tables, ~1.23 bits/pixel, a few seconds; version 1)")
			f.qualityChanged = func() bool { return fs.Changed("quality") }
			f.levelChanged = func() bool { return fs.Changed("level") }
			return func(args []string) error { return runCompress(f, args) }
		},
	})
	register(&command{
		name:    "decompress",
		summary: "Restore an IDX file from .mz (byte-exact for lossless files).",
		usage:   "[-o OUT] [-c] [-k] [-f] [--model W] FILE|-",
		setup: func(fs *pflag.FlagSet) func([]string) error {
			f := addCodecFlags(fs)
			return func(args []string) error { return runDecompress(f, args) }
		},
	})
}

// errTerminal: compressed bytes would garble a terminal (gzip refuses the same way).
var errTerminal = errors.New("compressed data not written to a terminal (use -f to force)")

func runCompress(f compressFlags, args []string) error {
	in, out, err := f.paths(args, func(p string) (string, error) {
		if strings.HasSuffix(p, ".mz") {
			return "", fmt.Errorf("%s already has the .mz suffix", p)
		}
		return p + ".mz", nil
	})
	if err != nil {
		return err
	}
	if f.qualityChanged() && !*f.lossy {
		return usagef("--quality needs --lossy")
	}
	if err := checkInt("quality", *f.quality, 1, mz.MaxQuality, ""); err != nil {
		return err
	}
	if *f.lossy && *f.hints {
		return usagef("--ae-hints is for lossless compression: not with --lossy")
	}
	level, ok := map[string]mz.Level{"best": mz.LevelBest, "fast": mz.LevelFast}[*f.level]
	if !ok {
		return usagef("--level %q: want best or fast", *f.level)
	}
	if *f.lossy && f.levelChanged() {
		return usagef("--level is for lossless compression: not with --lossy")
	}
	if out == "-" && !*f.force && stdoutIsTerminal() {
		return errTerminal
	}
	if out != "-" {
		if err := checkOutput(in, out, *f.force); err != nil {
			return err // before the work, not after it
		}
	}
	src, closeInput, err := openInput(in)
	if err != nil {
		return err
	}
	defer closeInput()
	progress, clearBar := progressFunc("compressing")
	loader := f.modelLoader(*f.lossy)
	opts := []mz.Option{mz.WithProgress(progress), mz.WithModelLoader(loader), mz.WithLevel(level)}
	if *f.lossy {
		opts = append(opts, mz.WithLossy(*f.quality))
	}
	if *f.hints {
		opts = append(opts, mz.WithAEHints(true))
	}
	enc, err := mz.NewEncoder(opts...)
	if err != nil {
		return err
	}
	start := time.Now()
	var st mz.Stats
	err = f.writeOutput(in, out, func(w io.Writer) error {
		var err error
		if *f.verify {
			st, err = encodeVerified(enc, w, src, mz.WithModelLoader(loader))
		} else {
			st, err = enc.Encode(w, src)
		}
		clearBar()
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	name := out
	if out == "-" {
		name = "standard output"
	}
	mode := "lossless"
	if *f.lossy {
		mode = fmt.Sprintf("lossy, quality %d", *f.quality)
	}
	note := ""
	if st.Gzipped {
		note = " (input was gzip-compressed: decompression restores the raw IDX)"
	}
	if *f.verify {
		note += ", verified"
	}
	unit := "data byte"
	if h := st.IDX; h.Type == idx.Ubyte && len(h.Dims) == 3 {
		unit = "pixel"
	}
	fmt.Fprintf(stderr, "%s → %s: %s, %d → %d bytes (%.2f%%, %.3f bits per %s) in %s%s\n", in, name, mode,
		st.In, st.Out, 100*float64(st.Out)/float64(st.In), 8*float64(st.Out)/float64(st.IDX.DataSize()), unit, formatDuration(elapsed), note)
	return nil
}

// encodeVerified compresses src to w while a Decoder restores what is written, alongside: the file
// is verified once the Decoder has checked every chunk and the SHA-256 of the whole restored file
// against the one the Encoder recorded from the input, and restored as many bytes as were read.
func encodeVerified(enc *mz.Encoder, w io.Writer, src io.Reader, opts ...mz.Option) (mz.Stats, error) {
	dec, err := mz.NewDecoder(opts...)
	if err != nil {
		return mz.Stats{}, err
	}
	pr, pw := io.Pipe()
	type result struct {
		restored int64
		err      error
	}
	verified := make(chan result, 1)
	go func() {
		var n countingWriter
		_, err := dec.Decode(&n, pr)
		if err != nil {
			err = fmt.Errorf("verify: %w", err)
		}
		pr.CloseWithError(err) // a failure stops the Encoder at its next write
		verified <- result{int64(n), err}
	}()
	st, err := enc.Encode(io.MultiWriter(w, pw), src)
	pw.CloseWithError(err)
	v := <-verified
	switch {
	case err != nil:
		return st, err
	case v.err != nil:
		return st, v.err
	case v.restored != st.In:
		return st, fmt.Errorf("verify: %w: %d bytes restored of %d", mz.ErrNotReproduced, v.restored, st.In)
	}
	return st, nil
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func runDecompress(f codecFlags, args []string) error {
	in, out, err := f.paths(args, func(p string) (string, error) {
		if !strings.HasSuffix(p, ".mz") || len(p) == len(".mz") {
			return "", fmt.Errorf("%s: unknown suffix, want .mz (or name the output with -o)", p)
		}
		return strings.TrimSuffix(p, ".mz"), nil
	})
	if err != nil {
		return err
	}
	if *f.verify {
		return usagef("--verify is a compress flag: decompression always checks the restored bytes' SHA-256")
	}
	src, closeInput, err := openInput(in)
	if err != nil {
		return err
	}
	defer closeInput()
	progress, clearBar := progressFunc("decompressing")
	dec, err := mz.NewDecoder(mz.WithProgress(progress), mz.WithModelLoader(f.modelLoader(false)))
	if err != nil {
		return err
	}
	return f.writeOutput(in, out, func(w io.Writer) error {
		_, err := dec.Decode(w, src)
		clearBar()
		if err != nil && in != "-" {
			return fmt.Errorf("%s: %w", in, err)
		}
		return err
	})
}
