package nn

import (
	"fmt"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// DepthToSpace is the periodic shuffle of Shi et al. 2016 ("Real-Time Single Image and Video
// Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural Network"): x [batch, h, w, c·r²]
// becomes [batch, h·r, w·r, c], with output pixel (i·r+a, j·r+b, k) taken from input channel
// (a·r + b)·c + k (TensorFlow's depth_to_space channel order). Only a reshape and a transpose, so it
// costs one copy and trains everywhere.
func DepthToSpace(x *Node, r int) *Node {
	d := x.Shape().Dimensions
	batch, h, w, c := d[0], d[1], d[2], d[3]/(r*r)
	if c*r*r != d[3] {
		panic(fmt.Sprintf("DepthToSpace: %d channels not divisible by r²=%d", d[3], r*r))
	}
	y := Reshape(x, batch, h, w, r, r, c)
	y = TransposeAllAxes(y, 0, 1, 3, 2, 4, 5) // [batch, h, r, w, r, c]
	return Reshape(y, batch, h*r, w*r, c)
}
