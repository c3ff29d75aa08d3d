package idx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/mnistzip/mnistzip/codec/atomicfile"
)

// WriteFile writes header h and data (exactly h.DataSize() bytes) to path,
// gzip-compressed if compress is set. It replaces path atomically (see
// codec/atomicfile): the data goes to a temp file in the same folder, which is
// fsynced, closed and then renamed over path, so readers see the old file or
// the whole new one, never a partial one. The temp file is removed on any
// error or termination signal.
func WriteFile(path string, h Header, data []byte, compress bool) error {
	if err := h.Validate(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if int64(len(data)) != h.DataSize() {
		return fmt.Errorf("write %s: %w: data has %d bytes, %s needs %d", path, ErrDataSize, len(data), h, h.DataSize())
	}
	var opts []Option
	if compress {
		opts = append(opts, WriteGzip())
	}
	// 0644, not os.Create's 0666: the usual result under the common 022 umask, whatever the umask.
	err := atomicfile.WriteFile(path, func(w io.Writer) error { return WriteAll(w, h, data, opts...) },
		atomicfile.Overwrite(true), atomicfile.Perm(0o644))
	var named *fs.PathError
	if err != nil && !errors.As(err, &named) { // atomicfile's errors name path already
		return fmt.Errorf("write %s: %w", path, err)
	}
	return err
}
