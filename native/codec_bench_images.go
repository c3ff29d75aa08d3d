package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// The image codecs and the context-mixing archiver of codec-bench, run as programs on files (they
// do not stream): JPEG XL and WebP lossless code the images as one mosaic, 100 digits wide, written
// here as a PGM (their pixel bytes only: the 16-byte IDX header is not in their size); zpaq codes the
// IDX file itself.
type fileTool struct {
	name   string
	images bool // codes the mosaic, not the IDX file
	// pack writes the compressed file for in and returns its path; unpack restores what pack read.
	pack   func(dir, in string) (string, error)
	unpack func(dir, packed string) ([]byte, error)
}

var fileTools = []fileTool{
	{name: "JPEG XL -e 9 (pixels)", images: true,
		pack: func(dir, in string) (string, error) {
			out := filepath.Join(dir, "mosaic.jxl")
			return out, runTool("cjxl", "-d", "0", "-e", "9", "-I", "100", "-g", "3", "--quiet", in, out)
		},
		unpack: func(dir, packed string) ([]byte, error) {
			back := filepath.Join(dir, "back.pgm")
			if err := runTool("djxl", packed, back, "--quiet"); err != nil {
				return nil, err
			}
			return readPNM(back)
		}},
	{name: "WebP lossless (pixels)", images: true,
		pack: func(dir, in string) (string, error) {
			out := filepath.Join(dir, "mosaic.webp")
			return out, runTool("cwebp", "-lossless", "-z", "9", "-quiet", in, "-o", out)
		},
		unpack: func(dir, packed string) ([]byte, error) {
			back := filepath.Join(dir, "back.ppm") // dwebp's -pgm is YUV 4:2:0, not grey: take R of RGB
			if err := runTool("dwebp", "-quiet", packed, "-ppm", "-o", back); err != nil {
				return nil, err
			}
			return readPNM(back)
		}},
	{name: "zpaq -m5",
		pack: func(dir, in string) (string, error) {
			out := filepath.Join(dir, "file.zpaq")
			return out, runIn(filepath.Dir(in), "zpaq", "a", out, filepath.Base(in), "-m5")
		},
		unpack: func(dir, packed string) ([]byte, error) {
			to := filepath.Join(dir, "x")
			if err := runTool("zpaq", "x", packed, "-to", to); err != nil {
				return nil, err
			}
			entries, err := os.ReadDir(to)
			if err != nil || len(entries) != 1 {
				return nil, fmt.Errorf("zpaq extracted %d files: %v", len(entries), err)
			}
			return os.ReadFile(filepath.Join(to, entries[0].Name()))
		}},
}

// fileToolPackages are the Debian packages of the tools (make codec-bench installs them).
var fileToolPackages = map[string]string{"cjxl": "libjxl-tools", "cwebp": "webp", "zpaq": "zpaq"}

func runTool(name string, args ...string) error { return runIn("", name, args...) }

func runIn(dir, name string, args ...string) error {
	if _, err := exec.LookPath(name); err != nil {
		return fmt.Errorf("%s not installed (Debian %s; make codec-bench installs it)", name, fileToolPackages[name])
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", name, err, oneLine(errors.New(stderr.String())))
	}
	return nil
}

// runFileTool packs and unpacks in a folder of its own; want is what unpack must give back.
func runFileTool(tool fileTool, tmp, in string, want []byte) (size int, ct, dt float64, err error) {
	dir, err := os.MkdirTemp(tmp, "tool-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	packed, err := tool.pack(dir, in)
	if err != nil {
		return 0, 0, 0, err
	}
	ct = time.Since(start).Seconds()
	info, err := os.Stat(packed)
	if err != nil {
		return 0, 0, 0, err
	}
	start = time.Now()
	back, err := tool.unpack(dir, packed)
	if err != nil {
		return 0, 0, 0, err
	}
	dt = time.Since(start).Seconds()
	if !bytes.Equal(back, want) {
		return 0, 0, 0, errors.New("round trip differs")
	}
	return int(info.Size()), ct, dt, nil
}

// maxMosaicSide is WebP's largest width or height.
const maxMosaicSide = 16383

// writeMosaic writes n 28×28 images as one PGM, 100 digits wide (t10k: 100×100 digits), or a
// multiple of 100 where that would be taller than WebP allows (train: 200 × 300), blank digits
// padding the last row, and returns the pixels in mosaic order as the codecs will restore them.
func writeMosaic(path string, pixels []byte) ([]byte, error) {
	n := len(pixels) / 784
	mosaicWidth := 100
	for (n+mosaicWidth-1)/mosaicWidth*28 > maxMosaicSide {
		mosaicWidth += 100
	}
	rows := (n + mosaicWidth - 1) / mosaicWidth
	w, h := mosaicWidth*28, rows*28
	m := make([]byte, w*h)
	for i := range n {
		R, C := i/mosaicWidth, i%mosaicWidth
		for r := range 28 {
			copy(m[(R*28+r)*w+C*28:], pixels[i*784+r*28:i*784+r*28+28])
		}
	}
	head := fmt.Sprintf("P5\n%d %d\n255\n", w, h)
	return m, os.WriteFile(path, append([]byte(head), m...), 0o644)
}

// readPNM reads a binary PGM (P5) or, keeping the red channel, PPM (P6) with maxval 255.
func readPNM(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || (string(b[:2]) != "P5" && string(b[:2]) != "P6") {
		return nil, fmt.Errorf("%s: not a binary PGM or PPM", path)
	}
	channels := map[string]int{"P5": 1, "P6": 3}[string(b[:2])]
	var vals [3]int
	pos := 2
	for k := range vals {
		for pos < len(b) && (b[pos] == ' ' || b[pos] == '\n' || b[pos] == '\r' || b[pos] == '\t') {
			pos++
		}
		start := pos
		for pos < len(b) && b[pos] >= '0' && b[pos] <= '9' {
			pos++
		}
		if vals[k], err = strconv.Atoi(string(b[start:pos])); err != nil {
			return nil, fmt.Errorf("%s: bad header", path)
		}
	}
	pos++ // the single whitespace byte before the pixels
	if vals[2] != 255 || len(b)-pos != vals[0]*vals[1]*channels {
		return nil, fmt.Errorf("%s: %d×%d, maxval %d, %d bytes of pixels", path, vals[0], vals[1], vals[2], len(b)-pos)
	}
	px := b[pos:]
	if channels == 1 {
		return px, nil
	}
	out := make([]byte, vals[0]*vals[1])
	for i := range out {
		out[i] = px[3*i]
	}
	return out, nil
}
