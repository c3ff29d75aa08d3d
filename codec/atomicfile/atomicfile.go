// Package atomicfile writes output files so that no reader, crash or signal ever sees half of one:
// the bytes go to a hidden temporary file in the output's folder, which Commit syncs and renames to
// the output's name. Abort, or any error on the way, removes the temporary file.
//
// Outputs that are not regular files are never replaced by one:
//   - a character device (/dev/null, a terminal) or a FIFO is written directly, with no temporary
//     file and no rename (what was written before a failure cannot be taken back);
//   - a directory, a block device, a socket or anything else is refused;
//   - a symbolic link is written through: the file it points to is replaced, in that file's folder,
//     and the link stays a link (so /dev/stdout, a link to the process's descriptor, writes to
//     whatever standard output is). A dangling link is refused rather than followed.
//
// Errors are *fs.PathError values naming the output path the caller gave, never the temporary
// file's name; errors.Is works with fs.ErrExist, fs.ErrNotExist and this package's sentinels.
//
// While a temporary file is pending, SIGINT, SIGTERM, SIGHUP and SIGQUIT remove every pending
// temporary file of the process and end it with exit status 128+signal, as a shell reports a death
// by that signal (SIGQUIT without its goroutine dump). Outside those windows the signals keep their
// default behaviour. OnSignal lets a host say something first.
//
// The package depends on the standard library only, so codec/ and graphs/ may both use it.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// Sentinel errors (wrapped in *fs.PathError).
var (
	// ErrExist: the output exists and Overwrite was not given; errors.Is(err, fs.ErrExist) holds too.
	ErrExist = &kindError{"already exists", fs.ErrExist}
	// ErrIsDir: the output names a directory.
	ErrIsDir = &kindError{"is a directory", nil}
	// ErrNotRegular: the output is a block device, socket or other file this package never writes.
	ErrNotRegular = &kindError{"is not a regular file, character device or FIFO", nil}
	// ErrDanglingLink: the output is a symbolic link to nothing.
	ErrDanglingLink = &kindError{"is a symbolic link to a missing file", fs.ErrNotExist}
	// ErrDone: Write or Commit after Commit or Abort.
	ErrDone = &kindError{"already committed or aborted", fs.ErrClosed}
)

type kindError struct {
	msg string
	is  error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return e.is != nil && target == e.is }

// folderError is a missing or unusable output folder.
type folderError struct {
	msg     string
	missing bool
}

func (e *folderError) Error() string        { return e.msg }
func (e *folderError) Is(target error) bool { return target == fs.ErrNotExist && e.missing }

type config struct {
	overwrite bool
	perm      fs.FileMode
}

// Option configures Create, Check and WriteFile.
type Option func(*config)

// Overwrite(true) lets an existing output be replaced (or, for a device or FIFO, written into);
// without it an existing output is ErrExist.
func Overwrite(allow bool) Option { return func(c *config) { c.overwrite = allow } }

// Perm sets a new file's permissions, before the process's umask as with os.Create (default 0666).
func Perm(perm fs.FileMode) Option { return func(c *config) { c.perm = perm.Perm() } }

func options(opts []Option) config {
	c := config{perm: 0o666}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// target is where an output goes once symbolic links are followed.
type target struct {
	path   string // as the caller named it: every error names this
	real   string // the regular file to replace (links resolved), or the device or FIFO to write
	direct bool   // a character device or FIFO: written in place
}

func pathError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the OS error without the name it was about (maybe the temporary file)
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}

func resolve(path string, c config) (target, error) {
	t := target{path: path, real: path}
	li, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		dir := filepath.Dir(path)
		di, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return t, &fs.PathError{Op: "create", Path: path, Err: &folderError{"folder " + dir + " does not exist", true}}
		case err != nil:
			return t, pathError("create", path, err)
		case !di.IsDir():
			return t, &fs.PathError{Op: "create", Path: path, Err: &folderError{dir + " is not a folder", false}}
		}
		return t, nil
	}
	if err != nil {
		return t, pathError("create", path, err)
	}
	fi := li
	link := li.Mode()&fs.ModeSymlink != 0
	if link {
		if fi, err = os.Stat(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return t, &fs.PathError{Op: "create", Path: path, Err: ErrDanglingLink}
			}
			return t, pathError("create", path, err)
		}
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return t, &fs.PathError{Op: "create", Path: path, Err: ErrIsDir}
	case m.IsRegular(), m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
	default:
		return t, &fs.PathError{Op: "create", Path: path, Err: ErrNotRegular}
	}
	if !c.overwrite {
		return t, &fs.PathError{Op: "create", Path: path, Err: ErrExist}
	}
	if !fi.Mode().IsRegular() {
		t.direct = true // opened by its name: the kernel follows links, /proc's magic ones included
		return t, nil
	}
	if link {
		if t.real, err = filepath.EvalSymlinks(path); err != nil {
			return t, pathError("create", path, err)
		}
	}
	return t, nil
}

// pending holds the temporary files not yet committed or aborted, for the signal handler.
var (
	mu      sync.Mutex
	pending = map[*File]struct{}{}
)

// File is an output being written. Write to it, then Commit; Abort (or an error from Commit)
// removes what was written. A deferred Abort after Commit does nothing.
type File struct {
	t    target
	f    *os.File
	tmp  string // the temporary file; "" for a direct output
	done bool
}

// Create starts writing the output path.
func Create(path string, opts ...Option) (*File, error) {
	c := options(opts)
	t, err := resolve(path, c)
	if err != nil {
		return nil, err
	}
	if t.direct {
		f, err := os.OpenFile(t.real, os.O_WRONLY, 0)
		if err != nil {
			return nil, pathError("open", path, err)
		}
		return &File{t: t, f: f}, nil
	}
	mu.Lock()
	defer mu.Unlock()
	watchSignals() // before the file exists: a signal can never find it unregistered
	dir, base := filepath.Split(t.real)
	for range 100 {
		tmp := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64()%1e10, 10))
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, c.perm) // the umask applies
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			unwatchSignals()
			return nil, pathError("create", path, err)
		}
		a := &File{t: t, f: f, tmp: tmp}
		pending[a] = struct{}{}
		return a, nil
	}
	unwatchSignals()
	return nil, &fs.PathError{Op: "create", Path: path, Err: errors.New("no free temporary name in its folder")}
}

// Scratch creates a temporary file in dir ("": the system's temporary folder) that the signal
// handler removes too, for data spooled before it may be shown (standard output written only once
// everything decoded). remove closes and deletes it; call it when done.
func Scratch(dir, pattern string) (f *os.File, remove func(), err error) {
	mu.Lock()
	defer mu.Unlock()
	watchSignals()
	f, err = os.CreateTemp(dir, pattern)
	if err != nil {
		unwatchSignals()
		return nil, nil, err
	}
	a := &File{f: f, tmp: f.Name()} // no output name: the handler has nothing to report for it
	pending[a] = struct{}{}
	return f, func() {
		mu.Lock()
		defer mu.Unlock()
		_ = f.Close()
		_ = os.Remove(a.tmp)
		a.forget()
	}, nil
}

// Check reports, writing nothing that stays, whether Create(path, opts...) would fail: an existing
// output without Overwrite, a directory, a missing or read-only folder. A long job calls it before it
// starts rather than failing at its end.
func Check(path string, opts ...Option) error {
	c := options(opts)
	t, err := resolve(path, c)
	if err != nil || t.direct {
		return err
	}
	f, err := Create(path, opts...) // the folder accepts a new file: try it
	if err != nil {
		return err
	}
	return f.Abort()
}

// Name is the output's path as given to Create.
func (a *File) Name() string { return a.t.path }

// Write writes to the output (its temporary file, or the device).
func (a *File) Write(p []byte) (int, error) {
	if a.done {
		return 0, &fs.PathError{Op: "write", Path: a.t.path, Err: ErrDone}
	}
	n, err := a.f.Write(p)
	if err != nil {
		err = pathError("write", a.t.path, err)
	}
	return n, err
}

// Commit makes the output whole under its name: sync, close, rename (a device or FIFO: close).
// On error nothing is left under the temporary name and the output keeps its old content.
func (a *File) Commit() error {
	if a.done {
		return &fs.PathError{Op: "commit", Path: a.t.path, Err: ErrDone}
	}
	a.done = true
	if a.tmp == "" {
		if err := a.f.Close(); err != nil {
			return pathError("close", a.t.path, err)
		}
		return nil
	}
	err := a.f.Sync()
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	mu.Lock()
	if err == nil {
		if err = os.Rename(a.tmp, a.t.real); err != nil {
			err = pathError("rename", a.t.path, err)
		}
	} else {
		err = pathError("write", a.t.path, err)
	}
	if err != nil {
		_ = os.Remove(a.tmp)
	}
	a.forget()
	mu.Unlock()
	if err == nil {
		syncDir(filepath.Dir(a.t.real))
	}
	return err
}

// Abort removes the temporary file (a direct output is just closed). It does nothing after Commit
// or a first Abort.
func (a *File) Abort() error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.f.Close()
	if a.tmp == "" {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	if rerr := os.Remove(a.tmp); rerr != nil {
		err = pathError("remove temporary file of", a.t.path, rerr)
	} else {
		err = nil
	}
	a.forget()
	return err
}

// forget unregisters a (mu held).
func (a *File) forget() {
	delete(pending, a)
	unwatchSignals()
}

// WriteFile writes path through write, buffered, and commits when write returns nil; any error
// leaves no temporary file and the output as it was. write's own errors come back unwrapped.
func WriteFile(path string, write func(w io.Writer) error, opts ...Option) error {
	a, err := Create(path, opts...)
	if err != nil {
		return err
	}
	defer a.Abort()
	w := bufio.NewWriterSize(a, 1<<20)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return a.Commit()
}

// syncDir makes a rename durable where the OS can sync a folder; failure is ignored because the
// file itself is complete either way.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// removePending removes every pending temporary file (mu held) and returns the outputs they were for.
func removePending() []string {
	var outputs []string
	for a := range pending {
		_ = os.Remove(a.tmp)
		if a.t.path != "" {
			outputs = append(outputs, a.t.path)
		}
	}
	clear(pending)
	return outputs
}
