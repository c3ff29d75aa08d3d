package weights

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzDecode: Decode must never panic, and whatever it accepts must
// re-encode and decode again.
func FuzzDecode(f *testing.F) {
	good := marshal(f, sampleFile(f))
	f.Add(good)
	f.Add(marshal(f, goldenFile(f)))
	f.Add(marshal(f, &File{}))
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62))
	f.Add(rebuild(`{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}))
	f.Add(rebuild(`{"__metadata__":{"format":"mnistzip-weights"},"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			if file != nil {
				t.Fatal("file returned with an error")
			}
			return
		}
		again, err := Marshal(file)
		if err != nil {
			t.Fatalf("decoded file does not re-encode: %v", err)
		}
		file2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		if third, _ := Marshal(file2); !bytes.Equal(third, again) {
			t.Fatal("encoding is not stable")
		}
		if _, err := Identity(data); err != nil {
			t.Fatalf("Identity fails where Decode succeeds: %v", err)
		}
	})
}
