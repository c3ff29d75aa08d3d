package cm

import (
	"os"
	"testing"
)

func TestDistinct(t *testing.T) {
	if os.Getenv("CM_FULL") == "" {
		t.Skip()
	}
	img := readImages(t, "../../data/mnist/t10k-images-idx3-ubyte.gz")
	n := len(img) / imageSize
	m := newModel(n)
	seen := make([]map[uint64]struct{}, contexts)
	for i := range seen {
		seen[i] = map[uint64]struct{}{}
	}
	for i := range n {
		im := img[i*imageSize : (i+1)*imageSize]
		for r := range side {
			for c := range side {
				at := (r+pad)*stride + pad + c
				m.contexts(r, c, at)
				v := int(im[r*side+c])
				nodes := []int{0}
				if v != 0 {
					node, x := 1, v-1
					for d := 7; d >= 0; d-- {
						nodes = append(nodes, node)
						node = node*2 + (x>>d)&1
					}
				}
				for k := range contexts {
					for _, nd := range nodes {
						seen[k][uint64(m.ctx[k])<<8|uint64(nd)] = struct{}{}
					}
				}
				m.buf[at] = byte(v)
			}
		}
	}
	for k := range contexts {
		t.Logf("context %d: %d distinct", k, len(seen[k]))
	}
}
