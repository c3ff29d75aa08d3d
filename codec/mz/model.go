package mz

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// Autoencoder is what the codec needs of a trained autoencoder. Encode and Decode must be
// deterministic: the decompressor recomputes what the compressor computed, and the file's checksum
// refuses the result when they differ.
type Autoencoder interface {
	ID() string
	CodeSize() int
	Encode(images []float32, n int) ([]float32, error) // [n, 784] in [0, 1] → [n, CodeSize]
	Decode(codes []float32, n int) ([]float32, error)  // [n, CodeSize] → [n, 784] in [0, 1]
}

// modelBatch is the fixed batch the graphs always run at (the last one zero-padded): a matrix
// product may sum in another order at another batch size, so the batch is part of the format.
const modelBatch = 100

// graphModel runs an autoencoder's GoMLX graphs.
type graphModel struct {
	id string
	ae *evaluate.Autoencoder
	mu sync.Mutex // one graph execution at a time: the backend already uses every core
}

// LoadModel prepares the autoencoder in f on backend.
func LoadModel(backend backends.Backend, f *weights.File) (Autoencoder, error) {
	ae, err := evaluate.LoadAutoencoder(backend, f)
	if err != nil {
		return nil, err
	}
	id, err := f.ID()
	if err != nil {
		return nil, err
	}
	return &graphModel{id: id, ae: ae}, nil
}

func (m *graphModel) ID() string    { return m.id }
func (m *graphModel) CodeSize() int { return m.ae.Config.CodeSize }

func (m *graphModel) Encode(images []float32, n int) ([]float32, error) {
	return batched(images, n, 784, m.CodeSize(), func(in []float32) ([]float32, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ae.Encode(in, modelBatch)
	})
}

func (m *graphModel) Decode(codes []float32, n int) ([]float32, error) {
	return batched(codes, n, m.CodeSize(), 784, func(in []float32) ([]float32, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.ae.Decode(in, modelBatch)
	})
}

// batched runs f over in ([n, inSize]) in batches of exactly modelBatch rows.
func batched(in []float32, n, inSize, outSize int, f func([]float32) ([]float32, error)) ([]float32, error) {
	out := make([]float32, 0, n*outSize)
	buf := make([]float32, modelBatch*inSize)
	for start := 0; start < n; start += modelBatch {
		rows := min(modelBatch, n-start)
		clear(buf)
		copy(buf, in[start*inSize:(start+rows)*inSize])
		res, err := f(buf)
		if err != nil {
			return nil, err
		}
		out = append(out, res[:rows*outSize]...)
	}
	return out, nil
}

// MaxQuality is the highest lossy quality.
const MaxQuality = 9

// DefaultQuality is the lossy quality when none is given: 8.9 bytes per digit (0.091 bits/pixel)
// with the shipped autoencoder, the largest quality under 0.1 bits/pixel.
const DefaultQuality = 7

// quantStep is the code quantization step of a lossy quality: 32 at quality 1, halving every two
// steps, 2 at quality 9.
func quantStep(quality int) float32 {
	return float32(32 / math.Pow(2, float64(quality-1)/2))
}

// quantize rounds codes to multiples of step, clamped to the int8 range the streams store.
func quantize(codes []float32, step float32) []int8 {
	q := make([]int8, len(codes))
	for i, c := range codes {
		q[i] = int8(max(-127, min(127, math.Round(float64(c/step)))))
	}
	return q
}

func dequantize(q []int8, step float32) []float32 {
	out := make([]float32, len(q))
	for i, v := range q {
		out[i] = float32(v) * step
	}
	return out
}

// toBytes turns reconstructions in [0, 1] into pixels.
func toBytes(recon []float32) []byte {
	out := make([]byte, len(recon))
	for i, v := range recon {
		out[i] = byte(max(0, min(255, math.Round(float64(v)*255))))
	}
	return out
}

func checkModel(h Header, m Autoencoder) error {
	if h.ModelID == "" {
		return nil
	}
	if m == nil {
		return fmt.Errorf("%w %s: pass its weights with --model", ErrNeedsModel, h.ModelID)
	}
	if m.ID() != h.ModelID {
		return fmt.Errorf("%w: the file was made with model %s, this is model %s", ErrWrongModel, h.ModelID, m.ID())
	}
	return nil
}
