module github.com/mnistzip/mnistzip

go 1.26

require (
	github.com/gomlx/gomlx v0.26.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/spf13/pflag v1.1.0 // indirect
)
