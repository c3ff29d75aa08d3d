package mz

import (
	"fmt"
	"math"
)

// Autoencoder is what the codec needs of a trained autoencoder; graphs/evaluate's CodecModel is the
// GoMLX implementation the hosts hand in. Encode and Decode must be deterministic: the decompressor
// recomputes what the compressor computed, and the file's checksum refuses the result when they
// differ. The codec calls them with exactly ModelBatch rows at a time (the last batch zero-padded),
// from several goroutines at once when chunks are coded concurrently.
type Autoencoder interface {
	ID() string                                        // lowercase hex id of the weights
	CodeSize() int                                     // values per image code
	Encode(images []float32, n int) ([]float32, error) // [n, 784] in [0, 1] → [n, CodeSize]
	Decode(codes []float32, n int) ([]float32, error)  // [n, CodeSize] → [n, 784] in [0, 1]
}

// ModelBatch is the batch the codec always runs a model at: a matrix product may sum in another order
// at another batch size, so the batch is part of the format.
const ModelBatch = 100

// MaxQuality is the highest lossy quality.
const MaxQuality = 9

// DefaultQuality is the lossy quality hosts use when none is given: with mnistzip's rate-distortion
// autoencoder, 8.6 bytes per digit (0.088 bits/pixel) on t10k, the largest quality under 0.1
// bits/pixel, where the shipped CNN still classifies 98.1% of the restored digits right.
const DefaultQuality = 8

// encodeImages runs m's encoder over n images ([n, 784] in [0, 1]) in batches of ModelBatch.
func encodeImages(m Autoencoder, images []float32, n int) ([]float32, error) {
	return batched(m.Encode, images, n, imageSize, m.CodeSize())
}

// decodeCodes runs m's decoder over n codes.
func decodeImages(m Autoencoder, codes []float32, n int) ([]float32, error) {
	return batched(m.Decode, codes, n, m.CodeSize(), imageSize)
}

// batched runs f over in ([n, inSize]) in batches of exactly ModelBatch rows. Errors, and results of
// the wrong size, are the model's (modelError).
func batched(f func([]float32, int) ([]float32, error), in []float32, n, inSize, outSize int) ([]float32, error) {
	if outSize < 1 {
		return nil, modelError{fmt.Errorf("code size %d", outSize)}
	}
	out := make([]float32, 0, n*outSize)
	buf := make([]float32, ModelBatch*inSize)
	for start := 0; start < n; start += ModelBatch {
		rows := min(ModelBatch, n-start)
		clear(buf)
		copy(buf, in[start*inSize:(start+rows)*inSize])
		res, err := f(buf, ModelBatch)
		if err != nil {
			return nil, modelError{err}
		}
		if len(res) != ModelBatch*outSize {
			return nil, modelError{fmt.Errorf("%d values for a batch of %d × %d", len(res), ModelBatch, outSize)}
		}
		out = append(out, res[:rows*outSize]...)
	}
	return out, nil
}

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

// toFloats turns pixels into [0, 1].
func toFloats(raw []byte) []float32 {
	out := make([]float32, len(raw))
	for i, v := range raw {
		out[i] = float32(v) / 255
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

// checkModel checks that m is the model header h names.
func checkModel(h Header, m Autoencoder) error {
	if h.ModelID == "" {
		return nil
	}
	if m == nil {
		return fmt.Errorf("%w: the file was made with autoencoder %s, and none was given", ErrNeedsModel, h.ModelID)
	}
	if m.ID() != h.ModelID {
		return fmt.Errorf("%w: the file was made with model %s, this is model %s", ErrWrongModel, h.ModelID, m.ID())
	}
	return nil
}
