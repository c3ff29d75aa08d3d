package idx

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile writes header h and data (exactly h.DataSize() bytes) to path,
// gzip-compressed if compress is set. It replaces path atomically: the data
// goes to a temp file in the same folder, which is fsynced, closed and then
// renamed over path, so readers see the old file or the whole new one,
// never a partial one. The temp file is removed on any error.
func WriteFile(path string, h Header, data []byte, compress bool) (err error) {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if int64(len(data)) != h.DataSize() {
		return fmt.Errorf("write %s: %w: data has %d bytes, %s needs %d", path, ErrDataSize, len(data), h, h.DataSize())
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // may already be closed; the error is irrelevant then
			os.Remove(tmp)
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	var opts []Option
	if compress {
		opts = append(opts, WriteGzip())
	}
	if err := WriteAll(f, h, data, opts...); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; a data file should be readable like
	// one made by os.Create (umask is not applied here, 0644 is the usual
	// result of 0666 under the common 022 umask).
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable where the platform allows it. It is best
// effort: some systems cannot fsync a directory, and the file itself is
// already complete and synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
