module github.com/sg2im-go/sg2im

go 1.26.8

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/nlpodyssey/gopickle v0.2.0
	golang.org/x/image v0.48.0
	gonum.org/v1/gonum v0.17.0
)

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/chromedp/chromedp v0.23.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)
