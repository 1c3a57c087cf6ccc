package main

import (
	"fmt"
	"io"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/weights"
	"github.com/sg2im-go/sg2im/weights/shipped"
)

// loadModel reads a release .pt or our .safetensors and builds its
// generator; an empty path is the shipped model, built into the binary.
func loadModel(path string, stderr io.Writer) (*weights.Checkpoint, *model.Generator, error) {
	var ck *weights.Checkpoint
	var err error
	if path == "" {
		path = shipped.ModelName
		if ck, err = weights.Decode(shipped.Model); err != nil {
			err = fmt.Errorf("%s: %w", path, err)
		}
	} else {
		ck, err = weights.Load(path)
	}
	if err != nil {
		return nil, nil, modelErr(err)
	}
	g, warnings, err := model.FromCheckpoint(ck)
	if err != nil {
		return nil, nil, modelErr(fmt.Errorf("%s: %w", path, err))
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "sg2im: warning: %s: %s\n", path, w)
	}
	return ck, g, nil
}
