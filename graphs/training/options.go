package training

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Validate reports options that cannot make a sensible run on trainData (and val, which may be nil):
// each error names the field and the values it takes. Run calls it first; hosts check their flags
// earlier, with the flags' names, so a user never gets here with a bad value.
func (o Options) Validate(trainData, val *Data) error {
	n := 0
	if trainData != nil {
		n = trainData.N
	}
	switch {
	case n < 1:
		return errors.New("training: no training digits")
	case o.Epochs < 1:
		return fmt.Errorf("training: %d epochs: want at least 1 (an untrained model is no result)", o.Epochs)
	case o.Batch < 1 || o.Batch > n:
		return fmt.Errorf("training: batch %d: want 1…%d (the training digits)", o.Batch, n)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return fmt.Errorf("training: learning rate %v: want a finite number > 0", o.LR)
	case !(o.WeightDecay >= 0 && o.WeightDecay <= 1):
		return fmt.Errorf("training: weight decay %v: want a number in [0, 1]", o.WeightDecay)
	case o.Schedule != "" && !slices.Contains(Schedules, o.Schedule):
		return fmt.Errorf("training: unknown learning-rate schedule %q: want constant or cosine", o.Schedule)
	case o.MaxSteps < 0 || o.ProbeEvery < 0:
		return fmt.Errorf("training: max steps %d, probe interval %d: want ≥ 0 (0: none)", o.MaxSteps, o.ProbeEvery)
	case o.CheckpointEvery < 0:
		return fmt.Errorf("training: checkpoint interval %s: want ≥ 0 (0: at the end of each epoch only)", o.CheckpointEvery)
	case o.Devices < 0:
		return fmt.Errorf("training: %d devices: want ≥ 0", o.Devices)
	case o.ValSize < 0 || o.Limit < 0:
		return fmt.Errorf("training: validation size %d and limit %d: want ≥ 0", o.ValSize, o.Limit)
	case o.Resume && o.Checkpoint == "" && o.From == nil:
		return errors.New("training: resuming needs a checkpoint file")
	case val != nil && o.ValSize != 0 && val.N != o.ValSize:
		return fmt.Errorf("training: validation size %d recorded, but the validation data holds %d digits", o.ValSize, val.N)
	}
	// Steps are counted in int: a schedule over every step must not overflow.
	if o.Epochs > math.MaxInt32/max(1, n/o.Batch) {
		return fmt.Errorf("training: %d epochs of %d steps: too many steps", o.Epochs, n/o.Batch)
	}
	return nil
}
