package mz

import (
	"fmt"

	"github.com/mnistzip/mnistzip/codec/cm"
)

// maxCMCoders is the most context-mixing models in use at once, whatever the concurrency: each
// holds 165 MiB of counters (cm.TableBytes), so memory stays bounded on many-core machines.
const maxCMCoders = 2

var cmSlots = make(chan struct{}, maxCMCoders)

// encodeCM and decodeCM: the payload is codec/cm's arithmetic-coded stream of the chunk's images.
func encodeCM(c *chunk) ([]byte, error) {
	cmSlots <- struct{}{}
	defer func() { <-cmSlots }()
	return cm.Encode(c.raw, c.items)
}

func decodeCM(c *chunk, payload []byte) ([]byte, error) {
	cmSlots <- struct{}{}
	defer func() { <-cmSlots }()
	b, err := cm.Decode(payload, c.items)
	if err != nil {
		return nil, fmt.Errorf("context-mixing payload: %w", err)
	}
	return b, nil
}
