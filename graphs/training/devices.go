package training

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/distributed"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/train"
)

// DataParallel shards every batch along its first axis across several devices of one backend with
// GoMLX's distributed package: the trainer's step graph is compiled once with XLA's automatic SPMD
// partitioner (distributed.AutoSharding), weights and optimizer state replicated, each device running
// the forward and backward pass of its slice of the batch, the gradients summed across devices.
type DataParallel struct {
	spec *distributed.ShardingSpec
}

// NewDataParallel checks that backend has devices devices and that batch splits evenly across them.
func NewDataParallel(backend backends.Backend, devices, batch int) (*DataParallel, error) {
	have := backend.NumDevices()
	if devices > have {
		return nil, fmt.Errorf("--devices %d: backend %s has %d device(s)%s", devices, backend.Name(), have, devicesHint(backend))
	}
	if batch%devices != 0 {
		return nil, fmt.Errorf("--devices %d: batch %d does not split evenly across %d devices", devices, batch, devices)
	}
	mesh, err := distributed.NewDeviceMesh([]int{devices}, []string{"batch"})
	if err != nil {
		return nil, err
	}
	spec, err := distributed.NewShardingSpec(mesh, distributed.AxisSpec{"batch"})
	if err != nil {
		return nil, err
	}
	return &DataParallel{spec: spec}, nil
}

func devicesHint(backend backends.Backend) string {
	if backend.NumDevices() <= 1 && backend.Name() != "xla" {
		return " (data parallelism needs XLA: --backend xla:cpu or xla:cuda)"
	}
	return ""
}

// Step runs one training step on the sharded batch; it returns the metrics like Trainer.TrainStep.
func (d *DataParallel) Step(trainer *train.Trainer, inputs, targets []*tensors.Tensor) ([]*tensors.Tensor, error) {
	shard := func(ts []*tensors.Tensor) ([]*distributed.Tensor, error) {
		out := make([]*distributed.Tensor, len(ts))
		for i, t := range ts {
			var err error
			if out[i], err = distributed.ShardTensor(d.spec, t); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	in, err := shard(inputs)
	if err != nil {
		return nil, err
	}
	tg, err := shard(targets)
	if err != nil {
		return nil, err
	}
	return trainer.DistributedTrainStep(distributed.AutoSharding, nil, nil, in, tg)
}
