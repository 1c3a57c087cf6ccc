package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sg2im-go/sg2im/weights"
)

// fixtureCheckpoints are the release-format fixtures, decoded.
func fixtureCheckpoints(f *testing.F) []*weights.Checkpoint {
	var out []*weights.Checkpoint
	for _, name := range []string{"tiny_masks.zip.pt", "tiny_boxes.zip.pt", "tiny_linear.legacy.pt", "tiny_oldformat.legacy.pt"} {
		ck, err := weights.Load(filepath.Join("..", "testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, ck)
	}
	return out
}

func FuzzParseConfig(f *testing.F) {
	for _, ck := range fixtureCheckpoints(f) {
		f.Add([]byte(ck.ModelKwargs))
	}
	f.Add([]byte(`{"image_size": 64, "embedding_dim": 8, "gconv_dim": 8, "gconv_hidden_dim": 8, "gconv_num_layers": 0, "refinement_dims": [4], "vocab": {"object_idx_to_name": ["__image__", "a"], "pred_idx_to_name": ["__in_image__"]}, "mask_size": null, "vec_noise_dim": 3, "x": 1}`))
	base, _ := json.Marshal(smallConfig())
	f.Add(base)
	opts := smallConfig()
	opts.AppearanceDim, opts.AppearanceScale, opts.BoxSigmoid, opts.InstanceEmbeddings = 4, 0.5, true, 3
	withOpts, _ := json.Marshal(opts)
	f.Add(withOpts)
	f.Add([]byte(`{"image_size": 64, "embedding_dim": 8, "gconv_dim": 8, "gconv_hidden_dim": 8, "gconv_num_layers": 1, "refinement_dims": [4], "vocab": {}, "appearance_dim": -1}`))
	f.Fuzz(func(t *testing.T, kwargs []byte) {
		cfg, _, err := ParseConfig(kwargs)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseConfig accepted an invalid config: %v", err)
		}
		again, _ := json.Marshal(cfg)
		if _, _, err := ParseConfig(again); err != nil {
			t.Fatalf("a parsed config does not parse again: %v\n%s", err, again)
		}
		if need := cfg.ActivationBytes(1, fullGraphObjects, fullGraphTriples); need > MaxActivationBytes {
			t.Fatalf("accepted a config needing %.0f bytes of activations", need)
		}
		if n, err := cfg.stateSize(); err != nil || n <= 0 {
			t.Fatalf("state size %d, %v", n, err)
		}
	})
}

func FuzzParseDConfig(f *testing.F) {
	for _, ck := range fixtureCheckpoints(f) {
		for _, kw := range [][]byte{ck.DImgKwargs, ck.DObjKwargs} {
			if kw != nil {
				f.Add([]byte(kw))
			}
		}
	}
	f.Add([]byte(`{"arch": "C3-8-2,C3-4", "normalization": "none", "activation": "leakyrelu", "padding": "same", "object_size": 8}`))
	f.Fuzz(func(t *testing.T, kwargs []byte) {
		c, err := ParseDConfig(kwargs)
		if err != nil || c.numParams() > 1<<16 {
			return // large ones are only counted, not built
		}
		d, err := NewImageDiscriminator(c)
		if err != nil {
			t.Fatalf("ParseDConfig accepted %s, NewImageDiscriminator refuses it: %v", kwargs, err)
		}
		n := 0
		for _, p := range d.reg.params {
			n += p.T.Numel()
		}
		if int64(n) < c.numParams() {
			t.Fatalf("numParams %d counts more than the %d the network has", c.numParams(), n)
		}
	})
}

// FuzzFromCheckpoint builds generators from mutated kwargs beside a
// fixture's weights: whatever the kwargs say, the result is an error or a
// generator that draws a finite-sized image.
func FuzzFromCheckpoint(f *testing.F) {
	cks := fixtureCheckpoints(f)
	for i, ck := range cks {
		f.Add(uint8(i), []byte(ck.ModelKwargs))
	}
	if b, err := os.ReadFile(filepath.Join("..", "testdata", "tiny_masks.json")); err == nil {
		f.Add(uint8(0), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, kwargs []byte) {
		ck := *cks[int(which)%len(cks)]
		ck.ModelKwargs = kwargs
		g, _, err := FromCheckpoint(&ck)
		if err != nil {
			return
		}
		v := g.Config.Vocab
		if len(v.ObjectIdxToName) < 2 || g.Config.ActivationBytes(1, 2, 1) > 64<<20 {
			return
		}
		b, err := Encode([]SceneGraph{{Objects: []string{v.ObjectIdxToName[1]}}}, v)
		if err != nil {
			return // e.g. a vocabulary whose first object is __image__ again
		}
		out, err := g.Forward(b, Options{Seed: 1})
		if err != nil {
			t.Fatalf("forward: %v", err)
		}
		if got, want := out.Img.Shape, []int{1, 3, g.Config.ImageSize[0], g.Config.ImageSize[1]}; len(got) != 4 || got[2] != want[2] || got[3] != want[3] {
			t.Fatalf("image shape %v, want %v", got, want)
		}
	})
}
