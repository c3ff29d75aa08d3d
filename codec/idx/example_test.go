package idx_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/mnistzip/mnistzip/codec/idx"
)

// Writing a small IDX file to a buffer, then reading its header and items back.
func ExampleWriteAll() {
	h := idx.Header{Type: idx.Ubyte, Dims: []int{3, 2, 2}} // three 2×2 images
	var buf bytes.Buffer
	if err := idx.WriteAll(&buf, h, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", buf.Bytes()[:h.HeaderSize()])
	fmt.Println(buf.Len(), "bytes")
	// Output:
	// 00 00 08 03 00 00 00 03 00 00 00 02 00 00 00 02
	// 28 bytes
}

// Reading an IDX file's header, then its items one at a time.
func ExampleNewReader() {
	file := []byte{0, 0, 0x08, 1, 0, 0, 0, 4, 7, 2, 1, 0} // four labels: 7 2 1 0
	rd, err := idx.NewReader(bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer rd.Close()
	h := rd.Header()
	fmt.Println(h, "—", h.NumItems(), "items of", h.ItemSize(), "byte")
	for {
		item, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(item[0], " ")
	}
	fmt.Println()
	// Output:
	// 4 ubyte — 4 items of 1 byte
	// 7 2 1 0
}

// A header that is not IDX is refused before any data is read.
func ExampleNewReader_notIDX() {
	_, err := idx.NewReader(bytes.NewReader([]byte("hello, world")))
	fmt.Println(err)
	// Output: idx: bad magic: starts with 68 65, want 00 00
}
