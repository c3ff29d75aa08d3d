package weights

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

const (
	checksumPrefix = "sha256:"
	// idLength is the number of hex digits of the checksum used as model ID:
	// 64 bits, plenty to tell models apart, short enough to store per file.
	idLength = 16
)

// entry is one tensor of the header table: where its bytes are in the data
// region.
type entry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int
}

// checksumOf hashes the manifest, the tensor table (entries in name order)
// and the data region given as consecutive chunks. See the package doc for
// the exact definition; every variable-length field is length-prefixed so
// no two different files hash the same input.
func checksumOf(manifest []byte, entries []entry, data [][]byte) string {
	h := sha256.New()
	writeBytes(h, manifest)
	writeUint(h, uint64(len(entries)))
	for _, e := range entries {
		writeBytes(h, []byte(e.name))
		writeBytes(h, []byte(e.dtype))
		writeUint(h, uint64(len(e.shape)))
		for _, d := range e.shape {
			writeUint(h, uint64(d))
		}
		writeUint(h, uint64(e.begin))
		writeUint(h, uint64(e.end))
	}
	for _, chunk := range data {
		h.Write(chunk)
	}
	return checksumPrefix + hex.EncodeToString(h.Sum(nil))
}

func writeUint(h hash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func writeBytes(h hash.Hash, b []byte) {
	writeUint(h, uint64(len(b)))
	h.Write(b)
}

// idFromChecksum returns the short model identity for a checksum string.
func idFromChecksum(sum string) string {
	hexSum := sum[len(checksumPrefix):]
	return hexSum[:idLength]
}
