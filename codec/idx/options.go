package idx

import "math"

// DefaultMaxDataSize is the default limit on the data size a header may
// claim: 1 GiB, twenty times MNIST's largest file (47 MB).
const DefaultMaxDataSize int64 = 1 << 30

// Option configures a Reader or Writer. Options that do not apply to one
// side are ignored by it.
type Option func(*config)

type config struct {
	maxDataSize int64
	gzip        bool
}

func newConfig(opts []Option) config {
	c := config{maxDataSize: DefaultMaxDataSize}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// MaxDataSize sets the largest data size (uncompressed, header excluded) a
// Reader accepts; a header that claims more is refused with ErrTooLarge
// before anything is allocated. A negative n means no limit.
func MaxDataSize(n int64) Option {
	return func(c *config) {
		if n < 0 {
			n = math.MaxInt64
		}
		c.maxDataSize = n
	}
}

// WriteGzip makes a Writer gzip-compress its output (default level).
func WriteGzip() Option {
	return func(c *config) { c.gzip = true }
}
