package idx

import (
	"bufio"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
)

// errJunkAfterGzip is returned by gzipMembers when non-gzip bytes follow a
// complete gzip member; Reader turns it into ErrTrailingData or, if data
// was still missing, ErrTruncatedData.
var errJunkAfterGzip = errors.New("non-gzip bytes follow the gzip stream")

// gzipMembers decompresses a gzip stream of one or more members (as `cat
// a.gz b.gz` makes, and gunzip accepts), like the gzip package's own
// multistream mode, but tells bytes after the last member apart from a
// corrupt next member. With the package's mode, junk after a complete .gz
// file reads as "invalid header" or "unexpected EOF", which blames the
// wrong thing.
type gzipMembers struct {
	gz *gzip.Reader
	br *bufio.Reader // the compressed input, shared with gz
}

func newGzipMembers(br *bufio.Reader) (*gzipMembers, error) {
	gz, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	gz.Multistream(false)
	return &gzipMembers{gz: gz, br: br}, nil
}

func (m *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := m.gz.Read(p)
		if err != io.EOF {
			return n, err
		}
		// The member is complete and its CRC checked. What follows?
		next, perr := m.br.Peek(2)
		switch {
		case len(next) == 0 && perr == io.EOF:
			return n, io.EOF
		case len(next) == 2 && next[0] == 0x1f && next[1] == 0x8b:
			if err := m.gz.Reset(m.br); err != nil {
				return n, err
			}
			m.gz.Multistream(false)
			if n > 0 {
				return n, nil
			}
		case perr != nil && perr != io.EOF:
			return n, perr
		default:
			return n, errJunkAfterGzip
		}
	}
}

func (m *gzipMembers) Close() error { return m.gz.Close() }
