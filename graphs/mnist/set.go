package mnist

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// Set is a split (or subset) of MNIST in memory.
type Set struct {
	// Images holds N images of Rows×Cols bytes, row-major, one after the
	// other: image i is Images[i*Rows*Cols : (i+1)*Rows*Cols]. 0 is
	// background, 255 full ink.
	Images []uint8
	// Labels holds N digits, 0..9.
	Labels []uint8
	N      int
	Rows   int
	Cols   int
}

// Image returns image i's pixels (a sub-slice of Images, not a copy).
func (s *Set) Image(i int) []uint8 {
	size := s.Rows * s.Cols
	return s.Images[i*size : (i+1)*size]
}

// Load reads split from dir (where Install put the files). It checks the
// format, not the hashes: see Verify. A missing file is ErrMissing with a
// hint to run "make data".
func Load(dir string, split Split) (*Set, error) {
	images, labels, err := split.Files()
	if err != nil {
		return nil, err
	}
	s, err := LoadFiles(filepath.Join(dir, images), filepath.Join(dir, labels))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missing(err)
	}
	return s, err
}

// LoadFiles reads an images file (N × 28 × 28 ubyte) and a labels file
// (N ubyte, each 0..9) from any paths, gzip-compressed or not. Anything
// else, including differing counts, is ErrFormat (or an idx error).
func LoadFiles(imagesPath, labelsPath string) (*Set, error) {
	ih, images, err := idx.ReadUbyteFile(imagesPath)
	if err != nil {
		return nil, err
	}
	lh, labels, err := idx.ReadUbyteFile(labelsPath)
	if err != nil {
		return nil, err
	}
	return newSet(ih, images, imagesPath, lh, labels, labelsPath)
}

// Parse is LoadFiles for two files in memory (a browser's downloads), raw or gzip-compressed.
func Parse(imagesFile, labelsFile []byte) (*Set, error) {
	ih, images, err := idx.ReadUbyte(bytes.NewReader(imagesFile))
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	lh, labels, err := idx.ReadUbyte(bytes.NewReader(labelsFile))
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return newSet(ih, images, "the images file", lh, labels, "the labels file")
}

func newSet(ih *idx.Header, images []uint8, imagesName string, lh *idx.Header, labels []uint8, labelsName string) (*Set, error) {
	if ih.Rank() != 3 || ih.Dims[1] != Rows || ih.Dims[2] != Cols {
		return nil, fmt.Errorf("%w: %s is %s, want N × %d × %d ubyte", ErrFormat, imagesName, ih, Rows, Cols)
	}
	if lh.Rank() != 1 {
		return nil, fmt.Errorf("%w: %s is %s, want N ubyte", ErrFormat, labelsName, lh)
	}
	if ih.NumItems() != lh.NumItems() {
		return nil, fmt.Errorf("%w: %s has %d images but %s has %d labels", ErrFormat, imagesName, ih.NumItems(), labelsName, lh.NumItems())
	}
	for i, l := range labels {
		if l >= NumClasses {
			return nil, fmt.Errorf("%w: %s: label %d is %d, want 0..9", ErrFormat, labelsName, i, l)
		}
	}
	return &Set{Images: images, Labels: labels, N: ih.NumItems(), Rows: Rows, Cols: Cols}, nil
}

// WriteSubset writes digits start..start+n-1 of set as two raw
// (uncompressed) IDX files, each replaced atomically. It is how small
// testdata subsets are made.
func WriteSubset(set *Set, start, n int, imagesPath, labelsPath string) error {
	size := set.Rows * set.Cols
	if set.N < 0 || set.Rows <= 0 || set.Cols <= 0 || len(set.Images) != set.N*size || len(set.Labels) != set.N {
		return fmt.Errorf("mnist: write subset: inconsistent set: N %d, %d×%d, %d image bytes, %d labels",
			set.N, set.Rows, set.Cols, len(set.Images), len(set.Labels))
	}
	if start < 0 || n < 0 || start > set.N-n {
		return fmt.Errorf("mnist: write subset: digits %d..%d+%d are out of the set's 0..%d", start, start, n, set.N)
	}
	ih := idx.Header{Type: idx.Ubyte, Dims: []int{n, set.Rows, set.Cols}}
	if err := idx.WriteFile(imagesPath, ih, set.Images[start*size:(start+n)*size], false); err != nil {
		return fmt.Errorf("mnist: write subset: %w", err)
	}
	lh := idx.Header{Type: idx.Ubyte, Dims: []int{n}}
	if err := idx.WriteFile(labelsPath, lh, set.Labels[start:start+n], false); err != nil {
		return fmt.Errorf("mnist: write subset: %w", err)
	}
	return nil
}

// Histogram counts each digit in labels. Values above 9 are not counted
// (Load and LoadFiles never return any).
func Histogram(labels []uint8) [NumClasses]int {
	var h [NumClasses]int
	for _, l := range labels {
		if int(l) < NumClasses {
			h[l]++
		}
	}
	return h
}

// Head returns the first n digits of s (sharing its memory).
func (s *Set) Head(n int) *Set {
	n = min(n, s.N)
	return &Set{Images: s.Images[:n*s.Rows*s.Cols], Labels: s.Labels[:n], N: n, Rows: s.Rows, Cols: s.Cols}
}
