package zoo

import (
	"reflect"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// The autoencoders share one configuration struct (models.AEConfig), its Kind fixed per entry.
var (
	aeModel       = withSizes(autoencoder(models.AE, "convolutional autoencoder, transposed-convolution decoder", true, true), aeSizes)
	daeModel      = autoencoder(models.DAE, "denoising autoencoder: trained on corrupted digits against the clean ones", false, true, Denoising)
	sparseModel   = autoencoder(models.SparseAE, "sparse autoencoder: L1 activity penalty on a ReLU code", false, true)
	vaeModel      = autoencoder(models.VAE, "variational autoencoder with a 2-D latent", true, true, LatentGrid, LatentScatter)
	subpixelModel = autoencoder(models.SubPixel, "autoencoder whose decoder upsamples by sub-pixel convolution", false, true)
	// The dense AE ships no weights: it is the page's quickest model to train.
	denseModel = autoencoder(models.DenseAE, "fully connected 784-512-code-512-784 autoencoder (the quickest to train)", true, false)
)

// aeSizes: "plain", the autoencoder of the lossless hints and of older lossy files, and "rd", trained
// for rate and distortion (the code's bits under a learned entropy model in the loss, with
// quantization noise as wide as quality 7's step, 4), the lossy codec's default since it met the
// lossy target at quality 8 (README, issue 18).
var aeSizes = map[string]models.AEConfig{
	"plain": {Kind: models.AE},
	"rd":    {Kind: models.AE, CodeSize: 64, Channels: [2]int{32, 64}, Hidden: 512, QuantNoise: 4, Rate: 0.4},
}

// withSizes gives an autoencoder entry presets (the first size the default, "plain").
func withSizes(m *Model, sizes map[string]models.AEConfig) *Model {
	m.Sizes = []string{"plain", "rd"}
	m.Shipped = m.Sizes
	m.newConfig = func(size string) Config {
		if size == "" {
			size = m.Sizes[0]
		}
		c := sizes[size]
		return &c
	}
	// A configuration is the preset whose resolved form it is (the first size otherwise).
	m.sizeOf = func(cfg Config) string {
		got, ok := cfg.(*models.AEConfig)
		if !ok {
			return ""
		}
		for _, size := range m.Sizes[1:] {
			want := sizes[size]
			want.Resolve()
			g := *got
			g.Resolve()
			if reflect.DeepEqual(g, want) {
				return size
			}
		}
		return ""
	}
	return m
}

func autoencoder(kind models.AEKind, summary string, browser, shipped bool, pictures ...Picture) *Model {
	var ship []string
	if shipped {
		ship = []string{""}
	}
	return declare(Model{Name: string(kind), Family: Autoencoder, Summary: summary, Browser: browser, Shipped: ship,
		Pictures: append([]Picture{Reconstructions}, pictures...)},
		func(string) *models.AEConfig { return &models.AEConfig{Kind: kind} },
		func(c *models.AEConfig) *training.Task { return training.AETask(*c) },
		func(b backends.Backend, f *weights.File, c *models.AEConfig) (*Trained, error) {
			ae, err := evaluate.LoadAutoencoder(b, f, *c)
			return &Trained{Autoencoder: ae}, err
		})
}
