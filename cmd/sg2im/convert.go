package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/weights"
)

func convert(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("convert", "Usage: sg2im convert [--dtype f16] [--generator_only] [--appearance_scale S] IN OUT.safetensors\n\n"+
		"Converts a checkpoint (a release .pt, legacy or zip PyTorch serialisation, or an\n"+
		"sg2im .safetensors) to safetensors, keeping the release's state-dict names and the\n"+
		"discriminators when present, unless --generator_only drops them (what generating\n"+
		"needs: the app's and the widget's model file).", stderr)
	dtype := fs.String("dtype", "f32", "store the weights as `type` f32, f16 or bf16 (half the size; values are rounded to nearest and computed in float32 after loading)")
	generatorOnly := fs.Bool("generator_only", false, "leave the discriminators out (all that generating images needs)")
	appScale := fs.Float64("appearance_scale", -1, "models with appearance vectors: record this standard deviation for the vectors drawn at inference (default: keep the file's)")
	if err := parse(fs, args); err != nil {
		return err
	}
	stored, ok := map[string]weights.DType{"f32": weights.F32, "f16": weights.F16, "bf16": weights.BF16}[strings.ToLower(*dtype)]
	if !ok {
		return usageErr("--dtype %q: want f32, f16 or bf16", *dtype)
	}
	if fs.NArg() != 2 {
		return usageErr("want two arguments, IN.pt OUT.safetensors; got %d", fs.NArg())
	}
	in, out := fs.Arg(0), fs.Arg(1)
	if !strings.HasSuffix(out, ".safetensors") {
		return usageErr("output %q: name it *.safetensors", out)
	}
	// Building the generator checks the weights against the config.
	ck, g, err := loadModel(in, stderr)
	if err != nil {
		return err
	}
	// The release's files carry keys that mean nothing now; the copy
	// leaves them out, so nothing warns about them again.
	retired := model.RetiredKwargs(ck.ModelKwargs)
	if ck.ModelKwargs, err = model.DropRetiredKwargs(ck.ModelKwargs); err != nil {
		return modelErr(fmt.Errorf("%s: model_kwargs: %w", in, err))
	}
	if *generatorOnly {
		ck.DropDiscriminators()
	}
	if *appScale >= 0 {
		if err := setAppearanceScale(ck, g, *appScale); err != nil {
			return err
		}
	}
	if err := ck.StoreFloatsAs(stored); err != nil {
		return err
	}
	if err := ck.Save(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d generator parameters as %s", out, g.NumParams(), stored)
	if *generatorOnly {
		fmt.Fprintf(stdout, ", discriminators left out")
	} else if ck.DImg != nil || ck.DObj != nil {
		fmt.Fprintf(stdout, ", discriminators kept")
	}
	if len(retired) > 0 {
		fmt.Fprintf(stdout, ", retired model_kwargs left out (%s)", strings.Join(retired, ", "))
	}
	fmt.Fprintln(stdout)
	return nil
}

func inspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "Usage: sg2im inspect FILE\n\n"+
		"Prints a checkpoint's format, config, vocabulary sizes and parameter counts.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("want one argument, the checkpoint file; got %d", fs.NArg())
	}
	ck, g, err := loadModel(fs.Arg(0), stderr)
	if err != nil {
		return err
	}
	cfg := g.Config
	vocab := cfg.Vocab
	cfg.Vocab = nil // listed below, not as JSON
	cfgJSON, _ := json.MarshalIndent(cfg, "  ", "  ")
	fmt.Fprintf(stdout, "file:       %s\n", fs.Arg(0))
	fmt.Fprintf(stdout, "format:     %s\n", ck.Format)
	fmt.Fprintf(stdout, "parameters: %d (generator, %d tensors)\n", g.NumParams(), len(ck.Model))
	for _, d := range []struct {
		name  string
		state []weights.Tensor
	}{{"d_img", ck.DImg}, {"d_obj", ck.DObj}} {
		if d.state != nil {
			fmt.Fprintf(stdout, "            %d (%s, %d tensors)\n", countValues(d.state), d.name, len(d.state))
		}
	}
	fmt.Fprintf(stdout, "objects:    %d (%d ids)\n", len(vocab.ObjectNameToIdx), len(vocab.ObjectIdxToName))
	fmt.Fprintf(stdout, "predicates: %d\n", len(vocab.PredNameToIdx))
	fmt.Fprintf(stdout, "config:     %s\n", cfgJSON)
	if retired := model.RetiredKwargs(ck.ModelKwargs); len(retired) > 0 {
		fmt.Fprintf(stdout, "retired:    model_kwargs %s (ignored, as by the release)\n", strings.Join(retired, ", "))
	}
	fmt.Fprintf(stdout, "words:      objects %s\n", strings.Join(vocab.Objects(), ", "))
	fmt.Fprintf(stdout, "            predicates %s\n", strings.Join(vocab.Predicates(), ", "))
	return nil
}

func countValues(ts []weights.Tensor) int {
	n := 0
	for _, t := range ts {
		n += t.T.Numel()
	}
	return n
}

// setAppearanceScale records the inference scale of the appearance
// vectors in the checkpoint's model_kwargs.
func setAppearanceScale(ck *weights.Checkpoint, g *model.Generator, scale float64) error {
	if g.Config.AppearanceDim == 0 {
		return usageErr("--appearance_scale: this model has no appearance vectors (appearance_dim 0)")
	}
	if scale == 0 {
		return usageErr("--appearance_scale 0: want a standard deviation above 0 (1 draws N(0, I))")
	}
	cfg := g.Config
	cfg.AppearanceScale = scale
	if err := cfg.Validate(); err != nil {
		return usageErr("--appearance_scale %g: %v", scale, err)
	}
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(ck.ModelKwargs, &kw); err != nil {
		return modelErr(fmt.Errorf("model_kwargs: %v", err))
	}
	kw["appearance_scale"], _ = json.Marshal(scale)
	ck.ModelKwargs, _ = json.Marshal(kw)
	return nil
}
