package zoo

import (
	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/evaluate"
	"github.com/mnistzip/mnistzip/graphs/models"
	"github.com/mnistzip/mnistzip/graphs/training"
	"github.com/mnistzip/mnistzip/graphs/weights"
)

// The autoencoders share one configuration struct (models.AEConfig), its Kind fixed per entry.
var (
	aeModel       = autoencoder(models.AE, "convolutional autoencoder, transposed-convolution decoder", true, true)
	daeModel      = autoencoder(models.DAE, "denoising autoencoder: trained on corrupted digits against the clean ones", false, true, Denoising)
	sparseModel   = autoencoder(models.SparseAE, "sparse autoencoder: L1 activity penalty on a ReLU code", false, true)
	vaeModel      = autoencoder(models.VAE, "variational autoencoder with a 2-D latent", true, true, LatentGrid, LatentScatter)
	subpixelModel = autoencoder(models.SubPixel, "autoencoder whose decoder upsamples by sub-pixel convolution", false, true)
	// The dense AE ships no weights: it is the page's quickest model to train.
	denseModel = autoencoder(models.DenseAE, "fully connected 784-512-code-512-784 autoencoder (the quickest to train)", true, false)
)

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
