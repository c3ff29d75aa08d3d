package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/mz"
	"github.com/mnistzip/mnistzip/graphs"
	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// peerTool is a general-purpose compressor run as a program, as a user would.
type peerTool struct {
	name       string
	compress   []string
	decompress []string
}

var peerTools = []peerTool{
	{"gzip -9", []string{"gzip", "-9", "-c"}, []string{"gzip", "-d", "-c"}},
	{"bzip2 -9", []string{"bzip2", "-9", "-c"}, []string{"bzip2", "-d", "-c"}},
	{"xz -9e", []string{"xz", "-9e", "-c"}, []string{"xz", "-d", "-c"}},
	{"zstd -19", []string{"zstd", "-19", "-q", "-c"}, []string{"zstd", "-d", "-q", "-c"}},
}

// codecBenchOptions are codec-bench's flags, checked.
type codecBenchOptions struct {
	data, classifier, backend, model string
	qualities                        []int
	skipLossless, skipLossy          bool
}

func init() {
	register(&command{
		name:    "codec-bench",
		summary: "Compare mnistzip's codec (both levels) with JPEG XL and WebP lossless, zpaq, gzip, bzip2, xz and zstd on the four MNIST files, and its lossy rate-distortion.",
		usage:   "[--classifier W] [--qualities 1,3,5,7,9]",
		define: func(fs *pflag.FlagSet) func([]string) (func() error, error) {
			var o codecBenchOptions
			fs.StringVar(&o.data, "data", mnist.DefaultDir, "MNIST data folder")
			fs.StringVar(&o.classifier, "classifier", "graphs/models/shipped/cnn.safetensors", "classifier judging the lossy reconstructions (\"\": skip)")
			fs.IntSliceVar(&o.qualities, "qualities", []int{1, 3, 5, 7, 9}, fmt.Sprintf("lossy qualities to measure, each 1…%d", mz.MaxQuality))
			fs.BoolVar(&o.skipLossless, "no-lossless", false, "only the lossy table")
			fs.BoolVar(&o.skipLossy, "no-lossy", false, "only the lossless table")
			fs.StringVar(&o.backend, "backend", "go", "backend running the classifier that scores lossy reconstructions (the codec itself always runs on the pure-Go engine): "+graphs.BackendSpecs)
			fs.StringVar(&o.model, "model", "", "autoencoder for the lossy table (default: the one built into mnistzip)")
			return func(args []string) (func() error, error) {
				if len(args) > 0 {
					return nil, usagef("codec-bench takes no arguments")
				}
				for _, q := range o.qualities {
					if err := checkInt("qualities", q, 1, mz.MaxQuality, ""); err != nil {
						return nil, err
					}
				}
				return func() error { return runCodecBench(o) }, nil
			}
		},
	})
}

func runCodecBench(o codecBenchOptions) error {
	tmp, err := os.MkdirTemp("", "mnistzip-codec-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if !o.skipLossless {
		if err := losslessTable(o.data, tmp); err != nil {
			return err
		}
	}
	if !o.skipLossy && len(o.qualities) > 0 {
		return lossyTable(o.data, o.classifier, o.backend, o.model, o.qualities)
	}
	return nil
}

func losslessTable(dataDir, tmp string) error {
	files := []string{mnist.TrainImagesFile, mnist.TrainLabelsFile, mnist.TestImagesFile, mnist.TestLabelsFile}
	fmt.Fprintf(stdout, "Lossless, byte-exact (bits per pixel for images, per byte for labels; times in seconds on %s)\n", cpuSummary())
	fmt.Fprintf(stdout, "%-26s %-20s %11s %8s %9s %9s %8s\n", "file", "coder", "bytes", "bits", "compress", "restore", "× mz")
	dec, err := mz.NewDecoder()
	if err != nil {
		return err
	}
	for _, name := range files {
		h, data, err := idx.ReadFile(filepath.Join(dataDir, name))
		if err != nil {
			return err
		}
		head, _ := h.MarshalBinary()
		raw := append(head, data...)
		path := filepath.Join(tmp, strings.TrimSuffix(name, ".gz"))
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			return err
		}
		bits := func(n int) float64 { return 8 * float64(n) / float64(len(data)) }
		label := strings.TrimSuffix(name, ".gz")
		mzSize := 0
		for _, level := range []mz.Level{mz.LevelBest, mz.LevelFast} {
			size, ct, dt, err := runMnistzip(dec, level, raw)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if mzSize == 0 {
				mzSize = size
			}
			fmt.Fprintf(stdout, "%-26s %-20s %11d %8.3f %9.2f %9.2f %8.2f\n", label, "mnistzip --level "+level.String(), size, bits(size), ct, dt, float64(size)/float64(mzSize))
			label = ""
		}
		for _, tool := range fileTools {
			in, want := path, raw
			if tool.images {
				if !(mz.Header{IDX: *h}).Images() {
					continue
				}
				in = path + ".pgm"
				if want, err = writeMosaic(in, data); err != nil {
					return err
				}
			}
			size, ct, dt, err := runFileTool(tool, tmp, in, want)
			if err != nil {
				fmt.Fprintf(stdout, "%-26s %-20s %s\n", "", tool.name, oneLine(err))
				continue
			}
			fmt.Fprintf(stdout, "%-26s %-20s %11d %8.3f %9.2f %9.2f %8.2f\n", "", tool.name, size, bits(size), ct, dt, float64(size)/float64(mzSize))
		}
		for _, tool := range peerTools {
			size, ct, dt, err := runPeer(tool, path, raw)
			if err != nil {
				fmt.Fprintf(stdout, "%-26s %-20s %s\n", "", tool.name, oneLine(err))
				continue
			}
			fmt.Fprintf(stdout, "%-26s %-20s %11d %8.3f %9.2f %9.2f %8.2f\n", "", tool.name, size, bits(size), ct, dt, float64(size)/float64(mzSize))
		}
	}
	return nil
}

// runMnistzip compresses raw at level (one chunk per core at once), checks the round trip, and
// returns the size and both times.
func runMnistzip(dec *mz.Decoder, level mz.Level, raw []byte) (size int, ct, dt float64, err error) {
	enc, err := mz.NewEncoder(mz.WithLevel(level), mz.WithConcurrency(min(runtime.GOMAXPROCS(0), mz.MaxConcurrency)))
	if err != nil {
		return 0, 0, 0, err
	}
	var packed, back bytes.Buffer
	start := time.Now()
	if _, err := enc.Encode(&packed, bytes.NewReader(raw)); err != nil {
		return 0, 0, 0, err
	}
	ct = time.Since(start).Seconds()
	start = time.Now()
	if _, err := dec.Decode(&back, bytes.NewReader(packed.Bytes())); err != nil {
		return 0, 0, 0, err
	}
	dt = time.Since(start).Seconds()
	if !bytes.Equal(back.Bytes(), raw) {
		return 0, 0, 0, mz.ErrNotReproduced
	}
	return packed.Len(), ct, dt, nil
}

// runPeer compresses path with tool, checks the round trip, and returns the size and both times.
func runPeer(tool peerTool, path string, raw []byte) (size int, ct, dt float64, err error) {
	if _, err := exec.LookPath(tool.compress[0]); err != nil {
		return 0, 0, 0, fmt.Errorf("not installed (make bench installs it)")
	}
	var out bytes.Buffer
	cmd := exec.Command(tool.compress[0], append(tool.compress[1:], path)...)
	cmd.Stdout = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, err
	}
	ct = time.Since(start).Seconds()
	var back bytes.Buffer
	cmd = exec.Command(tool.decompress[0], tool.decompress[1:]...)
	cmd.Stdin, cmd.Stdout = bytes.NewReader(out.Bytes()), &back
	start = time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, err
	}
	dt = time.Since(start).Seconds()
	if !bytes.Equal(back.Bytes(), raw) {
		return 0, 0, 0, errors.New("round trip differs")
	}
	return out.Len(), ct, dt, nil
}

func lossyTable(dataDir, classifierPath, backendSpec, modelPath string, qualities []int) error {
	set, err := mnist.Load(dataDir, mnist.Test)
	if err != nil {
		return err
	}
	backend, _, err := graphs.NewBackend(backendSpec)
	if err != nil {
		return err
	}
	cf := codecFlags{model: &modelPath}
	model, err := cf.loadModel("", true) // the lossy table: the lossy default unless --model
	if err != nil {
		return err
	}
	var clf *evaluate.Classifier
	if classifierPath != "" {
		w, err := weights.ReadFile(classifierPath)
		if err != nil {
			return fmt.Errorf("classifier: %w (train it with make models, or pass --classifier \"\")", err)
		}
		if clf, err = loadClassifier(backend, w); err != nil {
			return err
		}
	}
	accuracy := func(images []byte) (float64, error) {
		d := training.FromSet(&mnist.Set{Images: images, Labels: set.Labels, N: set.N, Rows: 28, Cols: 28}, 0, set.N)
		l, err := clf.Logits(d, 500)
		if err != nil {
			return 0, err
		}
		conf := evaluate.Confusion(l)
		right := 0
		for c := range 10 {
			right += conf[c][c]
		}
		return float64(right) / float64(set.N), nil
	}
	h := idx.Header{Type: idx.Ubyte, Dims: []int{set.N, 28, 28}}
	dec, err := mz.NewDecoder(mz.WithModel(model))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nLossy, t10k-images (%d digits), autoencoder %s\n", set.N, model.ID())
	fmt.Fprintf(stdout, "%-8s %10s %10s %10s %9s %12s %9s %9s\n", "quality", "bytes", "B/image", "bits/px", "PSNR dB", "CNN accuracy", "compress", "restore")
	if clf != nil {
		acc, err := accuracy(set.Images)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-8s %10s %10s %10s %9s %11.2f%% %9s %9s\n", "original", "", "", "", "", 100*acc, "", "")
	}
	for _, q := range qualities {
		var packed bytes.Buffer
		start := time.Now()
		enc, err := mz.NewEncoder(mz.WithLossy(q), mz.WithModel(model))
		if err != nil {
			return err
		}
		head, _ := h.MarshalBinary()
		if _, err := enc.Encode(&packed, io.MultiReader(bytes.NewReader(head), bytes.NewReader(set.Images))); err != nil {
			return err
		}
		ct := time.Since(start).Seconds()
		var back bytes.Buffer
		start = time.Now()
		if _, err := dec.Decode(&back, bytes.NewReader(packed.Bytes())); err != nil {
			return err
		}
		dt := time.Since(start).Seconds()
		recon := back.Bytes()[h.HeaderSize():]
		var se float64
		for i, v := range recon {
			d := float64(v) - float64(set.Images[i])
			se += d * d
		}
		psnr := 10 * math.Log10(255*255/(se/float64(len(recon))))
		acc := math.NaN()
		if clf != nil {
			if acc, err = accuracy(recon); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%-8d %10d %10.2f %10.4f %9.2f %11.2f%% %9.2f %9.2f\n", q, packed.Len(), float64(packed.Len())/float64(set.N),
			8*float64(packed.Len())/float64(len(recon)), psnr, 100*acc, ct, dt)
	}
	return nil
}

// cpuSummary names the machine's core count, which every time in the table depends on.
func cpuSummary() string {
	return fmt.Sprintf("%d cores", runtime.NumCPU())
}
