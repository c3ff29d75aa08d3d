package engine

import (
	"fmt"
	"testing"
)

// TestWindowTableInverse checks the tables multiply-first convolutions use: inverse names, for every
// (input, tap) pair, exactly the output whose window reads it there (numOut where none does), and
// tapIndex points each (output, tap) pair at that input's row of the all-taps product.
func TestWindowTableInverse(t *testing.T) {
	cases := []struct {
		in, win, strides, dil []int
		pad                   [][2]int
	}{
		{[]int{5, 6}, []int{3, 3}, []int{1, 1}, []int{1, 1}, [][2]int{{1, 1}, {1, 1}}},
		{[]int{7, 5}, []int{3, 2}, []int{2, 1}, []int{1, 1}, [][2]int{{1, 1}, {0, 1}}},
		{[]int{9, 8}, []int{3, 3}, []int{1, 2}, []int{2, 1}, [][2]int{{2, 2}, {0, 0}}},
		{[]int{6}, []int{1}, []int{1}, []int{1}, nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.in, tc.win, tc.strides, tc.dil, tc.pad), func(t *testing.T) {
			tb, err := newWindowTable(tc.in, tc.win, tc.strides, tc.pad, nil, tc.dil)
			if err != nil {
				t.Fatal(err)
			}
			inv, taps := tb.inverse(), tb.tapIndex()
			W := tb.numWindow
			reads := 0
			for p := range tb.numOut {
				for w := range W {
					s := int(tb.index[p*W+w])
					if taps[p*W+w] != int32(s*W+w) {
						t.Fatalf("tapIndex[%d, %d] = %d, want %d", p, w, taps[p*W+w], s*W+w)
					}
					if s == tb.numIn {
						continue
					}
					reads++
					if inv[s*W+w] != int32(p) {
						t.Fatalf("inverse[%d, %d] = %d, want %d", s, w, inv[s*W+w], p)
					}
				}
			}
			unread := 0
			for _, p := range inv {
				if p == int32(tb.numOut) {
					unread++
				}
			}
			if reads+unread != len(inv) {
				t.Errorf("%d (input, tap) pairs read and %d unread, want %d in all", reads, unread, len(inv))
			}
		})
	}
}
