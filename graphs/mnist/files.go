package mnist

import "fmt"

// DefaultDir is where the MNIST files are installed, relative to the
// repository root.
const DefaultDir = "data/mnist"

// The canonical file names, gzip-compressed as distributed.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// SHA-256 sums of the .gz files, as distributed.
const (
	TrainImagesSHA256 = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
	TrainLabelsSHA256 = "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
	TestImagesSHA256  = "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
	TestLabelsSHA256  = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
)

// Shape of the data.
const (
	Rows       = 28
	Cols       = 28
	ImageSize  = Rows * Cols // bytes per image
	NumClasses = 10          // digits 0..9
	TrainSize  = 60000       // images in the train split
	TestSize   = 10000       // images in the test split
)

// File is one canonical file and its SHA-256 (lowercase hex).
type File struct {
	Name   string
	SHA256 string
}

// Files returns the four canonical files: train images, train labels, test
// images, test labels.
func Files() []File {
	return []File{
		{TrainImagesFile, TrainImagesSHA256},
		{TrainLabelsFile, TrainLabelsSHA256},
		{TestImagesFile, TestImagesSHA256},
		{TestLabelsFile, TestLabelsSHA256},
	}
}

// Split selects the train or the test half of MNIST.
type Split int

const (
	Train Split = iota
	Test
)

// String returns "train" or "test".
func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Files returns the split's images and labels file names.
func (s Split) Files() (images, labels string, err error) {
	switch s {
	case Train:
		return TrainImagesFile, TrainLabelsFile, nil
	case Test:
		return TestImagesFile, TestLabelsFile, nil
	}
	return "", "", fmt.Errorf("mnist: unknown split %v", s)
}

// Size is the number of images in the split (0 for an unknown split).
func (s Split) Size() int {
	switch s {
	case Train:
		return TrainSize
	case Test:
		return TestSize
	}
	return 0
}
