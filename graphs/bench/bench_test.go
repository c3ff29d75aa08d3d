package bench

import (
	"os"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"

	"github.com/mnistzip/mnistzip/graphs/engine"
)

func engineBackend(b *testing.B) backends.Backend {
	e, err := engine.New(os.Getenv("MNISTZIP_ENGINE_CONFIG"))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchWorkload(b *testing.B, backend backends.Backend, w *Workload) {
	r := Time(backend, w, b.N, 0)
	if r.Err != nil {
		b.Fatal(r.Err)
	}
	b.ReportMetric(r.SecPerStep, "s/step")
	b.ReportMetric(r.GFLOPs(w), "GFLOP/s")
}

func BenchmarkW1Engine(b *testing.B) { benchWorkload(b, engineBackend(b), W1()) }
func BenchmarkW1Stock(b *testing.B) {
	s, _ := simplego.New("")
	benchWorkload(b, s, W1())
}
func BenchmarkW2Engine(b *testing.B) { benchWorkload(b, engineBackend(b), W2()) }

var _ = time.Second

func BenchmarkW3Engine(b *testing.B)      { benchWorkload(b, engineBackend(b), W3()) }
func BenchmarkW3SmallEngine(b *testing.B) { benchWorkload(b, engineBackend(b), W3Small()) }
func BenchmarkW4Engine(b *testing.B)      { benchWorkload(b, engineBackend(b), W4()) }
