// Package evaluate measures trained models on a data set: the autoencoders' reconstruction metrics
// and, for the classifiers, accuracy and calibration. It also runs the inference graphs the hosts need
// to draw pictures (reconstructions, latent points, decoded grids).
package evaluate

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// Autoencoder is a trained autoencoder ready for inference.
type Autoencoder struct {
	Config  models.AEConfig
	Weights *weights.File
	backend backends.Backend
	ctx     *context.Context
	run     *context.Exec // images [n,784] → recon [n,784], code, logVar (VAE), noisy (DAE), sampled-z recon logits (VAE)
	decode  *context.Exec // codes [n, CodeSize] → recon [n,784]
	encode  *context.Exec // images [n,784] → codes [n, CodeSize]
}

// evalSeed fixes the randomness of evaluation (the VAE's z sample, the DAE's noise).
const evalSeed = 12345

// LoadAutoencoder prepares f's autoencoder, whose configuration is cfg, on backend.
func LoadAutoencoder(backend backends.Backend, f *weights.File, cfg models.AEConfig) (*Autoencoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var err error
	ctx := context.New()
	if err := f.LoadInto(ctx); err != nil {
		return nil, err
	}
	ctx = ctx.Reuse()
	a := &Autoencoder{Config: cfg, Weights: f, backend: backend, ctx: ctx}
	a.run, err = context.NewExecAny(backend, ctx, func(ctx *context.Context, images *Node) []*Node {
		n := images.Shape().Dimensions[0]
		img := Reshape(images, n, 28, 28, 1)
		code, logVar := models.Encode(ctx, cfg, img)
		outs := []*Node{Reshape(Sigmoid(models.Decode(ctx, cfg, code)), n, 784), code}
		if cfg.Kind == models.VAE {
			// Negative ELBO needs a sample z ~ q(z|x): draw it from a fixed-seed generator so the
			// metric is reproducible.
			_, eps := RandomNormal(RNGStateFromSeedForGraph(images.Graph(), evalSeed), code.Shape())
			z := Add(code, Mul(Exp(MulScalar(logVar, 0.5)), eps))
			logits := models.Decode(ctx, cfg, z)
			nelbo := Add(models.BCEPerImage(logits, img), models.KLPerImage(code, logVar))
			outs = append(outs, nelbo)
		}
		if cfg.Kind == models.DAE {
			noisy := corrupt(cfg, img)
			ncode, _ := models.Encode(ctx, cfg, noisy)
			outs = append(outs, Reshape(noisy, n, 784), Reshape(Sigmoid(models.Decode(ctx, cfg, ncode)), n, 784))
		}
		return outs
	})
	if err != nil {
		return nil, err
	}
	a.decode, err = context.NewExecAny(backend, ctx, func(ctx *context.Context, codes *Node) *Node {
		n := codes.Shape().Dimensions[0]
		return Reshape(Sigmoid(models.Decode(ctx, cfg, codes)), n, 784)
	})
	if err != nil {
		return nil, err
	}
	a.encode, err = context.NewExecAny(backend, ctx, func(ctx *context.Context, images *Node) []*Node {
		n := images.Shape().Dimensions[0]
		code, logVar := models.Encode(ctx, cfg, Reshape(images, n, 28, 28, 1))
		if logVar != nil {
			// Output it too, unused: simplego (GoMLX v0.26.0) panics with "index out of range" when
			// a graph has a parameter (here the log-variance layer's weights) that no output uses.
			return []*Node{code, logVar}
		}
		return []*Node{code} // the VAE's mean
	})
	return a, err
}

// Encode returns the codes [n, CodeSize] of n images [n, 784] (the VAE: the posterior means).
func (a *Autoencoder) Encode(images []float32, n int) ([]float32, error) {
	outs, err := a.encode.Exec(tensors.FromFlatDataAndDimensions(images, n, 784))
	if err != nil {
		return nil, err
	}
	return flat(outs[0]), nil
}

// corrupt applies the DAE's noise with a fixed seed (evaluation must be reproducible; training uses
// the context's advancing RNG instead).
func corrupt(cfg models.AEConfig, img *Node) *Node {
	state := RNGStateFromSeedForGraph(img.Graph(), evalSeed+1)
	switch cfg.Noise {
	case "mask":
		_, u := RandomUniform(state, img.Shape())
		keep := GreaterOrEqual(u, Scalar(img.Graph(), img.DType(), cfg.NoiseLevel))
		return Where(keep, img, ZerosLike(img))
	case "gaussian":
		_, z := RandomNormal(state, img.Shape())
		return ClipScalar(Add(img, MulScalar(z, cfg.NoiseLevel)), 0, 1)
	}
	return img
}

// AEMetrics are an autoencoder's test metrics (per pixel where it says so).
type AEMetrics struct {
	N            int     `json:"n"`
	BCE          float64 `json:"bce_per_pixel"`
	MSE          float64 `json:"mse_per_pixel"`
	PSNR         float64 `json:"psnr_db"`                    // mean over images of 10·log10(1/MSE_image)
	NELBO        float64 `json:"neg_elbo_nats,omitempty"`    // VAE: mean negative ELBO per image (one sample of z)
	NoisyPSNR    float64 `json:"noisy_psnr_db,omitempty"`    // DAE: corrupted input vs clean
	DenoisedPSNR float64 `json:"denoised_psnr_db,omitempty"` // DAE: reconstruction of the corrupted input vs clean
	MeanAbsCode  float64 `json:"mean_abs_code"`              // mean |code unit| over images and units
	NearZeroFrac float64 `json:"near_zero_fraction"`         // fraction of code values with |v| < 0.01
}

// Outputs are the inference results for a batch.
type Outputs struct {
	Recon, Code, Noisy, Denoised []float32
	NELBO                        []float32
}

// Run runs the autoencoder on n images (n×784 floats in [0, 1]).
func (a *Autoencoder) Run(images []float32, n int) (*Outputs, error) {
	outs, err := a.run.Exec(tensors.FromFlatDataAndDimensions(images, n, 784))
	if err != nil {
		return nil, err
	}
	o := &Outputs{Recon: flat(outs[0]), Code: flat(outs[1])}
	rest := outs[2:]
	if a.Config.Kind == models.VAE {
		o.NELBO, rest = flat(rest[0]), rest[1:]
	}
	if a.Config.Kind == models.DAE {
		o.Noisy, o.Denoised = flat(rest[0]), flat(rest[1])
	}
	return o, nil
}

// Decode decodes n codes (n × CodeSize).
func (a *Autoencoder) Decode(codes []float32, n int) ([]float32, error) {
	outs, err := a.decode.Exec(tensors.FromFlatDataAndDimensions(codes, n, a.Config.CodeSize))
	if err != nil {
		return nil, err
	}
	return flat(outs[0]), nil
}

func flat(t *tensors.Tensor) []float32 { return tensors.MustCopyFlatData[float32](t) }

// EvalAutoencoder computes AEMetrics over data, in batches of batch images.
func EvalAutoencoder(a *Autoencoder, data *training.Data, batch int) (AEMetrics, error) {
	m := AEMetrics{}
	var bce, mse, psnr, nelbo, noisyPSNR, denoisedPSNR, absCode, nearZero float64
	var codeCount int
	for start := 0; start < data.N; start += batch {
		n := min(batch, data.N-start) // the last batch may be smaller: one more compilation
		images := data.Images[start*784 : (start+n)*784]
		o, err := a.Run(images, n)
		if err != nil {
			return m, fmt.Errorf("evaluate: %w", err)
		}
		for i := range n {
			clean := images[i*784 : (i+1)*784]
			b, e := pixelBCE(o.Recon[i*784:(i+1)*784], clean)
			bce += b
			mse += e
			psnr += psnrOf(e / 784)
			if o.NELBO != nil {
				nelbo += float64(o.NELBO[i])
			}
			if o.Noisy != nil {
				_, en := pixelBCE(o.Noisy[i*784:(i+1)*784], clean)
				_, ed := pixelBCE(o.Denoised[i*784:(i+1)*784], clean)
				noisyPSNR += psnrOf(en / 784)
				denoisedPSNR += psnrOf(ed / 784)
			}
			cs := a.Config.CodeSize
			for _, v := range o.Code[i*cs : (i+1)*cs] {
				absCode += math.Abs(float64(v))
				if math.Abs(float64(v)) < 0.01 {
					nearZero++
				}
				codeCount++
			}
			m.N++
		}
	}
	n := float64(m.N)
	m.BCE, m.MSE, m.PSNR = bce/n/784, mse/n/784, psnr/n
	if a.Config.Kind == models.VAE {
		m.NELBO = nelbo / n
	}
	if a.Config.Kind == models.DAE {
		m.NoisyPSNR, m.DenoisedPSNR = noisyPSNR/n, denoisedPSNR/n
	}
	m.MeanAbsCode, m.NearZeroFrac = absCode/float64(codeCount), nearZero/float64(codeCount)
	return m, nil
}

// pixelBCE returns the summed binary cross-entropy and squared error of prediction p against target t.
func pixelBCE(p, t []float32) (bce, sqErr float64) {
	const eps = 1e-7
	for i := range p {
		pi := math.Min(math.Max(float64(p[i]), eps), 1-eps)
		ti := float64(t[i])
		bce -= ti*math.Log(pi) + (1-ti)*math.Log(1-pi)
		d := pi - ti
		sqErr += d * d
	}
	return bce, sqErr
}

func psnrOf(mse float64) float64 { return 10 * math.Log10(1/math.Max(mse, 1e-10)) }
