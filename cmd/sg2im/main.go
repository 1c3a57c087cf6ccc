// Command sg2im is sg2im's command line:
//
//	generate  images from scene graphs (the shipped model, built in, unless --model)
//	convert   a release checkpoint (.pt) to safetensors
//	inspect   a model file: format, config, words, parameters
//	bench     the generator's speed, per layer type
//	train     a model, as the release's scripts/train.py (COCO, Visual Genome or the built-in world)
//	shards    training examples as safetensors shards for the PyTorch trainer (pytorch/)
//	world     export scenes of the built-in world as a COCO-format data set
//	eval      a model on held-out world scenes
//
// "sg2im COMMAND --help" lists a command's flags. Go programs use package
// github.com/sg2im-go/sg2im instead.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sg2im-go/sg2im/model"
)

// Exit codes, stable for scripts.
const (
	exitOK      = 0
	exitFailure = 1 // anything else: I/O, internal
	exitUsage   = 2 // bad flags or arguments
	exitModel   = 3 // the model file cannot be read or does not match its config
	exitInput   = 4 // the scene graphs, noise or other input are invalid
)

const usage = `sg2im turns scene graphs into images.

Usage:
  sg2im generate [--model FILE] --graphs FILE.json --out DIR [flags]
  sg2im convert IN.pt OUT.safetensors
  sg2im inspect FILE
  sg2im bench [--config coco64|vg128|FILE] [--threads N] [--reps N]
  sg2im train [--dataset coco|vg|world] [release flags] [--output_dir DIR]
  sg2im shards --dataset coco|vg|world [dataset flags] --out DIR [--draws N]
  sg2im world --out DIR --n N --seed S [--image_size 64] [--mask_size 16]
  sg2im eval [--model FILE] [--n 500] [--seed S] [--json] [--classifier FILE]

Without --model, generate and eval use the shipped model, built in.

Run "sg2im COMMAND --help" for a command's flags.

Exit codes: 0 success, 1 failure, 2 usage, 3 bad model file, 4 bad input.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns its exit code.
func run(args []string, stdout, stderr io.Writer) (code int) {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "generate":
		err = generate(args[1:], stdout, stderr)
	case "convert":
		err = convert(args[1:], stdout, stderr)
	case "inspect":
		err = inspect(args[1:], stdout, stderr)
	case "bench":
		err = benchCmd(args[1:], stdout, stderr)
	case "train":
		err = trainCmd(args[1:], stdout, stderr)
	case "shards":
		err = shardsCmd(args[1:], stdout, stderr)
	case "world":
		err = worldCmd(args[1:], stdout, stderr)
	case "eval":
		err = evalCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sg2im: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "sg2im %s: %v\n", args[0], err)
	var ce *cliError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitFailure
}

// cliError carries the exit code for a class of failure.
type cliError struct {
	code int
	err  error
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &cliError{exitUsage, fmt.Errorf(format, a...)}
}

func modelErr(err error) error { return &cliError{exitModel, err} }

// inputErr marks bad input; an unknown word with no near match gets the
// command that lists the model's words.
func inputErr(err error) error {
	var uw *model.UnknownWordError
	if errors.As(err, &uw) && len(uw.Suggestions) == 0 {
		err = fmt.Errorf("%w (`sg2im inspect MODEL` lists the model's words)", err)
	}
	return &cliError{exitInput, err}
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, mapping a bad flag to a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	return nil
}
