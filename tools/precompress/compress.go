package main

import (
	"bytes"
	"compress/gzip"

	"github.com/andybalholm/brotli"
)

// gzipBytes compresses b deterministically: the header carries no name,
// no mtime and a fixed OS byte (compress/gzip writes 255, "unknown").
func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// brotliBytes compresses b at quality 0 to 11; brotli streams carry no
// metadata, so the output depends only on b and quality.
func brotliBytes(b []byte, quality int) ([]byte, error) {
	var buf bytes.Buffer
	bw := brotli.NewWriterLevel(&buf, quality)
	if _, err := bw.Write(b); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
