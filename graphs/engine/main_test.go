package engine

import (
	"github.com/mnistzip/mnistzip/graphs/internal/gradcheck"
)

type array = gradcheck.Array

var (
	testBackend    = mustNew()
	randArray      = gradcheck.Rand
	run            = gradcheck.Run
	checkGradients = gradcheck.CheckGradients
	checkClose     = gradcheck.CheckClose
)

func mustNew() *Backend {
	b, err := New("")
	if err != nil {
		panic(err)
	}
	gradcheck.Backend = b
	return b
}
