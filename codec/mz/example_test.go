package mz_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/mnistzip/mnistzip/codec/idx"
	"github.com/mnistzip/mnistzip/codec/mz"
)

// labels is an IDX file of 10,000 digit labels (a pattern, so the example is self-contained).
func labels() []byte {
	h := idx.Header{Type: idx.Ubyte, Dims: []int{10000}}
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i * i % 7 % 10)
	}
	var buf bytes.Buffer
	if err := idx.WriteAll(&buf, h, data); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Compressing an IDX file and restoring it, with an Encoder and a Decoder made once and reusable for
// any number of files.
func Example() {
	file := labels()
	enc, err := mz.NewEncoder()
	if err != nil {
		fmt.Println(err)
		return
	}
	var packed bytes.Buffer
	st, err := enc.Encode(&packed, bytes.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d bytes → %d, %d chunk\n", st.IDX, st.In, st.Out, len(st.Chunks))

	dec, err := mz.NewDecoder()
	if err != nil {
		fmt.Println(err)
		return
	}
	var restored bytes.Buffer
	h, err := dec.Decode(&restored, &packed)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.IDX, "restored exactly:", bytes.Equal(restored.Bytes(), file))
	// Output:
	// 10000 ubyte: 10008 bytes → 109, 1 chunk
	// 10000 ubyte restored exactly: true
}

// The streaming forms: a Writer takes the IDX bytes as they come and writes the .mz form chunk by
// chunk; a Reader yields the restored bytes.
func ExampleNewWriter() {
	file := labels()
	var packed bytes.Buffer
	w, err := mz.NewWriter(&packed, mz.WithConcurrency(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, part := range [][]byte{file[:100], file[100:5000], file[5000:]} {
		if _, err := w.Write(part); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Close(); err != nil { // Close finishes the .mz file
		fmt.Println(err)
		return
	}

	r, err := mz.NewReader(&packed)
	if err != nil {
		fmt.Println(err)
		return
	}
	restored, err := io.ReadAll(r) // the final SHA-256 is checked before io.EOF
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Header().IDX, "restored exactly:", bytes.Equal(restored, file))
	// Output: 10000 ubyte restored exactly: true
}

// Options are checked when the Encoder is made, and errors match the package's sentinels.
func ExampleWithLossy() {
	_, err := mz.NewEncoder(mz.WithLossy(12))
	fmt.Println(err)
	_, err = mz.NewEncoder(mz.WithLossy(5)) // lossy coding needs the autoencoder
	fmt.Println(err)
	// Output:
	// mz: invalid option: lossy quality 12 is not in 1…9
	// mz: this needs an autoencoder: lossy and hinted compression need a model (WithModel or WithModelLoader)
}
