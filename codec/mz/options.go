package mz

import (
	"fmt"
	"runtime"
)

// MaxConcurrency is the most chunks WithConcurrency lets an Encoder or Decoder code at once.
const MaxConcurrency = 16

// DefaultConcurrency is the chunks coded at once without WithConcurrency: one per core, at most 4.
func DefaultConcurrency() int { return min(runtime.GOMAXPROCS(0), 4) }

// Option configures an Encoder, Writer, Decoder or Reader. Options are checked when the value is
// made: NewEncoder and the others return the first invalid option's error (ErrOption). An option
// that does not apply to one side (WithLossy to a Decoder) is ignored there.
type Option func(*config) error

type config struct {
	level       Level
	lossy       bool
	quality     int
	hints       bool
	model       Autoencoder
	loadModel   func(id string) (Autoencoder, error)
	concurrency int
	progress    func(done, total int64)
}

func newConfig(opts []Option) (config, error) {
	c := config{concurrency: DefaultConcurrency(), level: DefaultLevel}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// checkEncoder reports options that contradict each other when compressing.
func (c *config) checkEncoder() error {
	if c.lossy && c.hints {
		return fmt.Errorf("%w: autoencoder hints are for lossless compression, not with lossy", ErrOption)
	}
	if (c.lossy || c.hints) && c.model == nil && c.loadModel == nil {
		return fmt.Errorf("%w: lossy and hinted compression need a model (WithModel or WithModelLoader)", ErrNeedsModel)
	}
	return nil
}

// Level chooses the lossless coders an Encoder tries on image chunks.
type Level int

const (
	// LevelFast tries the pixel-stream coders (static context tables, entropy-coded by klauspost's
	// Huffman and FSE coders): about 1.23 bits/pixel on MNIST, a few seconds per 10,000 images, and
	// files in format version 1.
	LevelFast Level = 1
	// LevelBest adds the context-mixing coder (codec/cm): about 0.95 bits/pixel, about 1.6 µs per
	// pixel each way (13 s per 10,000 images on one core), format version 2.
	LevelBest Level = 2
)

// DefaultLevel is LevelBest: the smallest files are what mnistzip is for, and its speed (a
// train-images file in about a minute on 2 cores) is that of the other context-mixing coders.
const DefaultLevel = LevelBest

func (l Level) String() string {
	switch l {
	case LevelFast:
		return "fast"
	case LevelBest:
		return "best"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

type levelSet uint8

func levelBit(l Level) levelSet { return 1 << l }

const allLevels = levelSet(1<<LevelFast | 1<<LevelBest)

// WithLevel sets the lossless level (default DefaultLevel). Non-image data is coded alike at
// every level.
func WithLevel(l Level) Option {
	return func(c *config) error {
		if l != LevelFast && l != LevelBest {
			return fmt.Errorf("%w: level %d is neither LevelFast (%d) nor LevelBest (%d)", ErrOption, int(l), LevelFast, LevelBest)
		}
		c.level = l
		return nil
	}
}

// WithLossy makes an Encoder keep only the autoencoder's codes of each image, quantized at quality
// 1 (smallest) … MaxQuality (closest). It needs a model.
func WithLossy(quality int) Option {
	return func(c *config) error {
		if quality < 1 || quality > MaxQuality {
			return fmt.Errorf("%w: lossy quality %d is not in 1…%d", ErrOption, quality, MaxQuality)
		}
		c.lossy, c.quality = true, quality
		return nil
	}
}

// WithAEHints makes a lossless Encoder also try, for every image chunk, the pixel models with the
// autoencoder's reconstruction as extra context, keeping it where smaller. It costs an encoder and a
// decoder pass over the images (and the decoder pass again to decompress). It needs a model.
func WithAEHints(on bool) Option {
	return func(c *config) error {
		c.hints = on
		return nil
	}
}

// WithModel gives the autoencoder: an Encoder's for lossy or hinted coding, a Decoder's for files
// that name it (the file's model id must be m.ID()).
func WithModel(m Autoencoder) Option {
	return func(c *config) error {
		if m == nil {
			return fmt.Errorf("%w: WithModel(nil)", ErrOption)
		}
		c.model = m
		return nil
	}
}

// WithModelLoader gives a function that returns the autoencoder only when one is needed, so files
// that need none never pay for loading it: a Decoder calls it with the model id a file names, once
// the header has checked out; an Encoder calls it with "" once the input's IDX header has checked
// out and only when the options and the input need a model (lossy, or hints on images). Errors it
// returns are passed through unchanged. WithModel takes precedence.
func WithModelLoader(load func(id string) (Autoencoder, error)) Option {
	return func(c *config) error {
		if load == nil {
			return fmt.Errorf("%w: WithModelLoader(nil)", ErrOption)
		}
		c.loadModel = load
		return nil
	}
}

// WithConcurrency sets how many chunks are coded at once, 1…MaxConcurrency (default
// DefaultConcurrency). Memory grows with it: see the package documentation.
func WithConcurrency(n int) Option {
	return func(c *config) error {
		if n < 1 || n > MaxConcurrency {
			return fmt.Errorf("%w: concurrency %d is not in 1…%d", ErrOption, n, MaxConcurrency)
		}
		c.concurrency = n
		return nil
	}
}

// WithProgress sets a function called after each chunk with the items (images, or bytes) finished so
// far and the total the header promises; it is called from one goroutine at a time.
func WithProgress(f func(done, total int64)) Option {
	return func(c *config) error {
		c.progress = f
		return nil
	}
}

// model returns the configured model, loading it if need be.
func (c *config) getModel(id string) (Autoencoder, error) {
	if c.model != nil {
		return c.model, nil
	}
	if c.loadModel == nil {
		return nil, nil
	}
	m, err := c.loadModel(id)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: the model loader returned no model", ErrNeedsModel)
	}
	return m, nil
}
