package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/mnistzip/mnistzip/graphs/models"
)

// Inference is one classification call of the shipped CNN architecture (random weights: speed does
// not depend on their values) on a batch of digits.
type Inference struct {
	Name, Description string
	Batch             int
}

// InferenceCases are the CNN on one digit (the demo page's latency case) and on 256 (throughput).
func InferenceCases() []Inference {
	return []Inference{
		{"I1", "CNN inference, 1 digit", 1},
		{"I256", "CNN inference, 256 digits", 256},
	}
}

// TimeInference compiles the CNN for c.Batch digits, runs it once (compilation), then until minTime
// has passed; returns seconds per call and the first call's seconds.
func TimeInference(backend backends.Backend, c Inference, minTime time.Duration) (res Result) {
	res = Result{Workload: c.Name, Backend: backend.Name()}
	defer func() {
		if r := recover(); r != nil {
			res.Err = fmt.Errorf("%v", r)
		}
	}()
	ctx := context.New()
	exec, err := context.NewExecAny(backend, ctx, func(ctx *context.Context, images *Node) *Node {
		return models.CNN(ctx, Reshape(images, c.Batch, 28, 28, 1), 0)
	})
	if err != nil {
		res.Err = err
		return res
	}
	in := randImages(rand.New(rand.NewPCG(5, 6)), c.Batch, 784)
	start := time.Now()
	if _, err := exec.Exec(in); err != nil {
		res.Err = err
		return res
	}
	res.CompileSecs = time.Since(start).Seconds()
	start = time.Now()
	for res.Steps < 3 || time.Since(start) < minTime {
		out, err := exec.Exec(in)
		if err != nil {
			res.Err = err
			return res
		}
		out[0].FinalizeAll()
		res.Steps++
	}
	res.SecPerStep = time.Since(start).Seconds() / float64(res.Steps)
	return res
}
