//go:build js

package main

import (
	"fmt"
	"sync"

	"github.com/gomlx/gomlx/backends"

	"github.com/mnistzip/mnistzip/graphs/service"
	"github.com/mnistzip/mnistzip/graphs/webgpu"
)

// openGPU opens the browser's WebGPU device once; the error says why there is none.
var openGPU = sync.OnceValues(func() (*webgpu.Backend, error) {
	d, err := webgpu.Open()
	if err != nil {
		return nil, err
	}
	return webgpu.New(d), nil
})

// gpuCheckSpec sizes the check; zero values take the defaults.
type gpuCheckSpec struct {
	Size        string `json:"size"`        // the CNN trained: "tiny" (default) or "standard"
	Steps       int    `json:"steps"`       // training steps on WebGPU (default 60)
	EngineSteps int    `json:"engineSteps"` // on the engine, for the step-time ratio (default 15)
	Compare     int    `json:"compare"`     // test digits classified on both (default 1,000)
	Profile     int    `json:"profile"`     // then this many steps with each dispatch timed (0: none)
}

type gpuCheckResult struct {
	Adapter  webgpu.AdapterInfo    `json:"adapter"`
	Ops      []webgpu.CaseResult   `json:"ops"`
	Gradient webgpu.CaseResult     `json:"gradient"`
	Train    *webgpu.TrainReport   `json:"train,omitempty"`
	TrainErr string                `json:"trainError,omitempty"`
	Profile  []webgpu.ProfileEntry `json:"profile,omitempty"`
	Graphs   []webgpu.GraphStats   `json:"graphs"`
	// DispatchMs is what one more dispatch in a graph costs on this device (webgpu.DispatchCost).
	DispatchMs float64 `json:"dispatchMs"`
}

func checkGPU(gpu *webgpu.Backend, engine backends.Backend, svc *service.Service, spec gpuCheckSpec) (gpuCheckResult, error) {
	if spec.Size == "" {
		spec.Size = "tiny"
	}
	if spec.Steps == 0 {
		spec.Steps = 60
	}
	if spec.EngineSteps == 0 {
		spec.EngineSteps = 15
	}
	if spec.Compare == 0 {
		spec.Compare = 1000
	}
	if spec.Size != "tiny" && spec.Size != "standard" || spec.Steps < 20 || spec.Steps > 1000 || spec.EngineSteps < 6 ||
		spec.EngineSteps > 200 || spec.Compare < 1 || spec.Compare > 10000 || spec.Profile < 0 || spec.Profile > 20 {
		return gpuCheckResult{}, fmt.Errorf("gpuCheck %+v: want size tiny or standard, steps 20…1000, engineSteps 6…200, compare 1…10000, profile 0…20", spec)
	}
	r := gpuCheckResult{Adapter: gpu.Adapter(), Ops: webgpu.CheckOps(gpu, engine), Gradient: webgpu.GradientCheck(gpu)}
	train, err := svc.SplitSet("train")
	if err != nil {
		return r, fmt.Errorf("gpuCheck: %w", err)
	}
	test, err := svc.SplitSet("test")
	if err != nil {
		return r, fmt.Errorf("gpuCheck: %w", err)
	}
	if spec.Profile > 0 {
		webgpu.Profile(true)
		err := webgpu.TrainSteps(gpu, spec.Size, train, spec.Profile)
		webgpu.Profile(false)
		if err != nil {
			return r, err
		}
		r.Profile = webgpu.ProfileReport()
		return r, nil
	}
	tr, err := webgpu.TrainCheck(gpu, engine, spec.Size, train, test, spec.Steps, spec.EngineSteps, spec.Compare)
	if err != nil {
		r.TrainErr = err.Error()
	} else {
		r.Train = &tr
	}
	r.Graphs = webgpu.Compiled()
	if ms, err := webgpu.DispatchCost(gpu); err == nil {
		r.DispatchMs = ms
	}
	return r, nil
}
