package cm

import (
	"bytes"
	"testing"
)

// FuzzCM (make fuzz): any bytes, taken as up to 3 images, come back from Encode and Decode
// byte-exact; taken as a payload, they decode to n images or an error, never a panic, and a
// payload that decodes is one whose images encode to a payload of the same length.
func FuzzCM(f *testing.F) {
	img := make([]byte, imageSize)
	for i := range img {
		if r, c := i/side, i%side; r > 8 && r < 20 && c > 12 && c < 16 {
			img[i] = byte(255 - 40*(c-13))
		}
	}
	p, _ := Encode(img, 1)
	f.Add(img, uint8(1))
	f.Add(p, uint8(1))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		n %= 4
		images := make([]byte, int(n)*imageSize)
		copy(images, b)
		payload, err := Encode(images, int(n))
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(payload, int(n))
		if err != nil || !bytes.Equal(back, images) {
			t.Fatalf("round trip of %d images: %v", n, err)
		}
		if out, err := Decode(b, int(n)); err == nil {
			if len(out) != int(n)*imageSize {
				t.Fatalf("%d bytes decoded for %d images", len(out), n)
			}
			if again, _ := Encode(out, int(n)); len(again) != len(b) {
				t.Fatalf("a %d-byte payload decodes to images that encode to %d bytes", len(b), len(again))
			}
		}
	})
}
