package service

import (
	"fmt"

	"github.com/mnistzip/mnistzip/graphs/mnist"
	"github.com/mnistzip/mnistzip/graphs/training"
)

// split is a set of digits a host handed over once (the browser's decoded MNIST files), kept for
// training and evaluation so that no call has to pass it again.
type split struct {
	set  *mnist.Set
	data *training.Data // the pixels scaled to [0, 1], made once
}

// SplitInfo describes a split the service holds.
type SplitInfo struct {
	Name      string                `json:"name"`
	N         int                   `json:"n"`
	Histogram [mnist.NumClasses]int `json:"histogram"` // digits of each label
}

// SetSplit parses an images and a labels IDX file (raw or gzip-compressed) and keeps them under name
// ("train", "test"), replacing a split of that name.
func (s *Service) SetSplit(name string, imagesFile, labelsFile []byte) (SplitInfo, error) {
	set, err := mnist.Parse(imagesFile, labelsFile)
	if err != nil {
		return SplitInfo{}, fmt.Errorf("split %s: %w", name, err)
	}
	sp := &split{set: set, data: training.FromSet(set, 0, set.N)}
	s.mu.Lock()
	s.splits[name] = sp
	s.mu.Unlock()
	return sp.info(name), nil
}

func (sp *split) info(name string) SplitInfo {
	return SplitInfo{Name: name, N: sp.set.N, Histogram: mnist.Histogram(sp.set.Labels)}
}

func (s *Service) split(name string) (*split, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp, ok := s.splits[name]
	if !ok {
		return nil, fmt.Errorf("no data split named %q is loaded", name)
	}
	return sp, nil
}

// SplitImages returns n images of a split from start, as bytes (784 per image, 0 background).
func (s *Service) SplitImages(name string, start, n int) ([]uint8, []uint8, error) {
	sp, err := s.split(name)
	if err != nil {
		return nil, nil, err
	}
	if start < 0 || n < 1 || start > sp.set.N-n {
		return nil, nil, fmt.Errorf("images %d…%d of %s: it holds %d", start, start+n-1, name, sp.set.N)
	}
	size := mnist.Rows * mnist.Cols
	return sp.set.Images[start*size : (start+n)*size], sp.set.Labels[start : start+n], nil
}

// SplitSet returns the digits of a split (for a host's own checks; not to be modified).
func (s *Service) SplitSet(name string) (*mnist.Set, error) {
	sp, err := s.split(name)
	if err != nil {
		return nil, err
	}
	return sp.set, nil
}
