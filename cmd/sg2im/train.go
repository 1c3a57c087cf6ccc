package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/train"
)

const trainSynopsis = `Usage: sg2im train [--dataset coco|vg|world] [dataset flags] [model and loss flags] [--output_dir DIR]

Trains sg2im as the release's scripts/train.py does, under its flag names
and defaults. Boolean flags take 0/1 or false/true, as --flag, --flag=1 or
--flag 1. In --output_dir go checkpoint.safetensors (for sg2im generate),
checkpoint.state.safetensors (for --restore_from_checkpoint), losses.jsonl,
val.jsonl, losses.png and samples/T.png. SIGINT or SIGTERM finishes the
current iteration, writes a checkpoint and exits 0.`

// trainFlags are sg2im train's flags beyond train.Config.
type trainFlags struct {
	dataset        string
	outputDir      string
	checkpointName string
	startFrom      string
	restore        bool
	threads        int
	workers        int
	coco           cocoFlags
	vg             vgFlags
	// Data options shared by the datasets.
	numTrainSamples int
	includeRels     bool
	maxObjects      int
	maxObjectsSet   bool // --max_objects_per_image was given
}

// releaseBool is a boolean flag written as the release's bool_flag (0 or
// 1), or as true/false; alone it means true.
type releaseBool struct{ p *bool }

func (b releaseBool) String() string {
	if b.p != nil && *b.p {
		return "1"
	}
	return "0"
}

func (b releaseBool) Set(s string) error {
	switch strings.ToLower(s) {
	case "1", "true":
		*b.p = true
	case "0", "false":
		*b.p = false
	default:
		return fmt.Errorf("want 0 or 1 (or false, true), not %q", s)
	}
	return nil
}

func (b releaseBool) IsBoolFlag() bool { return true }

// intTuple is the release's int_tuple: "64,64"; for image_size a single
// number means a square.
type intTuple struct{ p *[]int }

func (t intTuple) String() string {
	if t.p == nil {
		return ""
	}
	var s []string
	for _, v := range *t.p {
		s = append(s, strconv.Itoa(v))
	}
	return strings.Join(s, ",")
}

func (t intTuple) Set(s string) error {
	var out []int
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("want integers separated by commas, e.g. 64,64; %q is not an integer", part)
		}
		out = append(out, v)
	}
	*t.p = out
	return nil
}

// floatTuple is exactly n comma-separated numbers.
type floatTuple struct {
	p *[]float64
	n int
}

func (t floatTuple) String() string {
	if t.p == nil {
		return ""
	}
	var s []string
	for _, v := range *t.p {
		s = append(s, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return strings.Join(s, ",")
}

func (t floatTuple) Set(s string) error {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return fmt.Errorf("want %d numbers separated by commas; %q is not a number", t.n, part)
		}
		out = append(out, v)
	}
	if len(out) != t.n {
		return fmt.Errorf("want %d numbers separated by commas, got %d", t.n, len(out))
	}
	*t.p = out
	return nil
}

// strTuple is the release's str_tuple: comma-separated names; nil when not
// given.
type strTuple struct{ p *[]string }

func (t strTuple) String() string {
	if t.p == nil {
		return ""
	}
	return strings.Join(*t.p, ",")
}

func (t strTuple) Set(s string) error {
	*t.p = []string{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*t.p = append(*t.p, part)
		}
	}
	return nil
}

// mergeBoolValues rewrites "--flag 0" as "--flag=0" for boolean flags, so
// that the release's spelling works with Go's flag package (which would
// take the 0 for a positional argument). A value that is not a flag
// always goes to the boolean before it.
func mergeBoolValues(fs *flag.FlagSet, args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && !strings.Contains(name, "=") && i+1 < len(args) {
			if f := fs.Lookup(name); f != nil {
				// sg2im train takes no positional arguments, so a value
				// after a boolean flag is that flag's.
				if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() && !strings.HasPrefix(args[i+1], "-") {
					out = append(out, a+"="+args[i+1])
					i++
					continue
				}
			}
		}
		out = append(out, a)
	}
	return out
}

// registerModelOptions adds the flags of the model options beyond the
// release, all off by default.
func registerModelOptions(fs *flag.FlagSet, cfg *train.Config) {
	fs.IntVar(&cfg.AppearanceDim, "appearance_dim", 0, "per-object appearance vector width, encoded from the real crops at training, drawn from the seed at inference (0: none, as the release)")
	fs.Float64Var(&cfg.AppearanceKLWeight, "appearance_kl_weight", 0, "weight of the appearance vectors' KL divergence from N(0, I), e.g. 0.01 (needed with --appearance_dim)")
	fs.BoolVar(&cfg.BoxSigmoid, "box_sigmoid", false, "end the box net in a sigmoid, keeping boxes inside the image (default the release's ReLU)")
	fs.IntVar(&cfg.InstanceEmbeddings, "instance_embeddings", 0, "learned embeddings of an object's instance index among its category (0: none)")
}

func trainCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", trainSynopsis, stderr)
	cfg := train.DefaultConfig()
	var tf trainFlags
	imageSize := []int{cfg.ImageSize[0], cfg.ImageSize[1]}
	registerTrainFlags(fs, &cfg, &tf, &imageSize)
	set, err := parseTrainFlags(fs, args, &cfg, &tf, &imageSize)
	if err != nil {
		return err
	}
	opener, dataArgs, err := openDataset(&tf)
	if err != nil {
		return err
	}

	if tf.threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tf.threads))
		defer nn.SetThreads(0)
		nn.SetThreads(tf.threads)
	}
	ctx, stop := stopOnSignals(stderr)
	defer stop()

	dataArgs["dataset"] = tf.dataset
	_, err = train.Run(ctx, train.Options{
		Config: cfg, OpenData: opener, OutputDir: tf.outputDir, CheckpointName: tf.checkpointName,
		StartFrom: tf.startFrom, Restore: tf.restore, SetFlags: set, Args: dataArgs, Workers: tf.workers,
		Log: stdout, Progress: stderr, Terminal: isTerminal(stderr),
	})
	if err != nil {
		var de *train.DataError
		var ce *train.CheckpointError
		switch {
		case errors.As(err, &de):
			return inputErr(err)
		case errors.As(err, &ce):
			return modelErr(err)
		}
		return err
	}
	return nil
}

// exitAborted is the exit status of a run aborted by a second signal, as a
// shell reports a process killed by SIGINT.
const exitAborted = 128 + 2

// stopOnSignals returns a context cancelled by the first SIGINT or SIGTERM,
// so that the run finishes its iteration and writes a checkpoint; a second
// one exits at once. The second is handled here rather than by restoring
// the default action, which would be to ignore it when the run was
// started with SIGINT ignored (in the background of a shell script).
func stopOnSignals(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "\nsg2im train: stopping after this iteration to write a checkpoint (signal again to abort without one)")
		cancel()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "sg2im train: aborted without a checkpoint")
			os.Exit(exitAborted)
		case <-done:
		}
	}()
	return ctx, func() { close(done); signal.Stop(sigs); cancel() }
}

// registerTrainFlags defines train.py's flags (and ours) on fs, writing
// into cfg, tf and imageSize.
func registerTrainFlags(fs *flag.FlagSet, cfg *train.Config, tf *trainFlags, imageSize *[]int) {
	fs.StringVar(&tf.dataset, "dataset", "coco", "training data: coco, vg or world")
	fs.IntVar(&cfg.BatchSize, "batch_size", cfg.BatchSize, "images per batch")
	fs.IntVar(&cfg.NumIterations, "num_iterations", cfg.NumIterations, "train until this many iterations")
	fs.Float64Var(&cfg.LearningRate, "learning_rate", cfg.LearningRate, "Adam's learning rate, for all three networks")
	fs.IntVar(&cfg.EvalModeAfter, "eval_mode_after", cfg.EvalModeAfter, "switch the generator's batch norms to eval mode after this many iterations (-1: never)")

	fs.Var(intTuple{imageSize}, "image_size", "image `H,W`")
	fs.IntVar(&cfg.MaskSize, "mask_size", cfg.MaskSize, "object mask side (0: no masks)")
	fs.IntVar(&cfg.EmbeddingDim, "embedding_dim", cfg.EmbeddingDim, "object and predicate embedding width")
	fs.IntVar(&cfg.GconvDim, "gconv_dim", cfg.GconvDim, "graph convolution width")
	fs.IntVar(&cfg.GconvHiddenDim, "gconv_hidden_dim", cfg.GconvHiddenDim, "graph convolution hidden width")
	fs.IntVar(&cfg.GconvNumLayers, "gconv_num_layers", cfg.GconvNumLayers, "graph convolution layers")
	fs.StringVar(&cfg.MLPNormalization, "mlp_normalization", cfg.MLPNormalization, "box and relation MLP normalization: none or batch")
	fs.Var(floatTuple{&cfg.BoxBiasInit, 4}, "box_bias_init", "initial bias `x0,y0,x1,y1` of the box net's last layer (default PyTorch's init)")
	fs.Var(intTuple{&cfg.RefinementDims}, "refinement_network_dims", "cascaded refinement network widths, e.g. 1024,512,256,128,64")
	fs.StringVar(&cfg.Normalization, "normalization", cfg.Normalization, "generator normalization: batch, instance or none")
	fs.StringVar(&cfg.Activation, "activation", cfg.Activation, "generator activation: relu, leakyrelu or leakyrelu-<slope>")
	fs.IntVar(&cfg.LayoutNoiseDim, "layout_noise_dim", cfg.LayoutNoiseDim, "layout noise channels")
	registerModelOptions(fs, cfg)

	fs.Float64Var(&cfg.L1PixelLossWeight, "l1_pixel_loss_weight", cfg.L1PixelLossWeight, "weight of the L1 pixel loss")
	fs.Float64Var(&cfg.BBoxPredLossWeight, "bbox_pred_loss_weight", cfg.BBoxPredLossWeight, "weight of the box regression loss")
	fs.Float64Var(&cfg.MaskLossWeight, "mask_loss_weight", cfg.MaskLossWeight, "weight of the mask loss")
	fs.Float64Var(&cfg.DiscriminatorLossWeight, "discriminator_loss_weight", cfg.DiscriminatorLossWeight, "weight of the adversarial losses (0: no discriminators)")
	fs.StringVar(&cfg.GANLossType, "gan_loss_type", cfg.GANLossType, "gan, lsgan or wgan")
	fs.StringVar(&cfg.DNormalization, "d_normalization", cfg.DNormalization, "discriminator normalization: batch, instance or none")
	fs.StringVar(&cfg.DPadding, "d_padding", cfg.DPadding, "discriminator padding: valid or same")
	fs.StringVar(&cfg.DActivation, "d_activation", cfg.DActivation, "discriminator activation")
	fs.StringVar(&cfg.DObjArch, "d_obj_arch", cfg.DObjArch, "object discriminator convolutions CK-C-S,...")
	fs.IntVar(&cfg.CropSize, "crop_size", cfg.CropSize, "object discriminator crop side")
	fs.Float64Var(&cfg.DObjWeight, "d_obj_weight", cfg.DObjWeight, "object discriminator weight (times discriminator_loss_weight; 0: none)")
	fs.Float64Var(&cfg.ACLossWeight, "ac_loss_weight", cfg.ACLossWeight, "weight of the object classification loss")
	fs.StringVar(&cfg.DImgArch, "d_img_arch", cfg.DImgArch, "image discriminator convolutions CK-C-S,...")
	fs.Float64Var(&cfg.DImgWeight, "d_img_weight", cfg.DImgWeight, "image discriminator weight (times discriminator_loss_weight; 0: none)")

	fs.IntVar(&cfg.PrintEvery, "print_every", cfg.PrintEvery, "log the losses every this many iterations")
	fs.IntVar(&cfg.CheckpointEvery, "checkpoint_every", cfg.CheckpointEvery, "checkpoint, validate and draw samples every this many iterations")
	fs.IntVar(&cfg.NumValSamples, "num_val_samples", cfg.NumValSamples, "validation images per checkpoint")
	fs.StringVar(&tf.outputDir, "output_dir", ".", "`directory` for checkpoints, logs and pictures")
	fs.StringVar(&tf.checkpointName, "checkpoint_name", "checkpoint", "checkpoint file `name` (without extension)")
	fs.StringVar(&tf.startFrom, "checkpoint_start_from", "", "initialise from this `checkpoint` (a release .pt or an sg2im .safetensors); its model kwargs replace the generator flags")
	fs.Var(releaseBool{&tf.restore}, "restore_from_checkpoint", "resume the run in --output_dir if it has a checkpoint (0 or 1)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the initial weights, the batches, the relationships and the layout noise")
	fs.IntVar(&tf.threads, "threads", 0, "goroutines for the maths (0: all CPUs)")
	fs.IntVar(&tf.workers, "loader_num_workers", 4, "data-loading goroutines")

	fs.IntVar(&tf.numTrainSamples, "num_train_samples", 0, "use only this many training images (0: all)")
	tf.includeRels = true
	fs.Var(releaseBool{&tf.includeRels}, "include_relationships", "add the spatial (COCO) or annotated (VG) relationships (0 or 1)")
	fs.IntVar(&tf.maxObjects, "max_objects_per_image", 8, "COCO: drop images with more objects; VG: objects drawn per image (default 10 for vg, as train.py)")
	tf.coco.register(fs)
	tf.vg.register(fs)

}

// parseTrainFlags parses args and checks the flags; it returns the names
// of the flags given.
func parseTrainFlags(fs *flag.FlagSet, args []string, cfg *train.Config, tf *trainFlags, sizeFlag *[]int) (map[string]bool, error) {
	if err := parse(fs, mergeBoolValues(fs, args)); err != nil {
		return nil, err
	}
	imageSize := *sizeFlag
	if fs.NArg() > 0 {
		return nil, usageErr("unexpected argument %q; all inputs are flags (see sg2im train --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	tf.maxObjectsSet = set["max_objects_per_image"]
	switch len(imageSize) {
	case 1:
		cfg.ImageSize = [2]int{imageSize[0], imageSize[0]}
	case 2:
		cfg.ImageSize = [2]int{imageSize[0], imageSize[1]}
	default:
		return nil, usageErr("--image_size %v: want H,W", imageSize)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usageErr("%v", err)
	}
	if tf.threads < 0 || tf.workers < 1 {
		return nil, usageErr("--threads must be at least 0 and --loader_num_workers at least 1")
	}
	return set, nil
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
