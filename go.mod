module github.com/sg2im-go/sg2im

go 1.26.8

require (
	github.com/nlpodyssey/gopickle v0.2.0
	golang.org/x/image v0.48.0
	gonum.org/v1/gonum v0.17.0
)

require github.com/andybalholm/brotli v1.3.0 // indirect
