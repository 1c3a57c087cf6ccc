package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture is the part of testdata/NAME.json these tests use.
type fixture struct {
	Checkpoints []string                   `json:"checkpoints"`
	ModelKwargs map[string]json.RawMessage `json:"model_kwargs"`
	DImgKwargs  map[string]json.RawMessage `json:"d_img_kwargs"`
	DObjKwargs  map[string]json.RawMessage `json:"d_obj_kwargs"`
	Tensors     []string                   `json:"tensors"`
}

var cases = []string{"tiny_masks", "tiny_boxes", "tiny_linear", "tiny_oldformat"}

func readFixture(t *testing.T, name string) fixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameJSON reports whether every key of want has an equal value in got.
func sameJSON(t *testing.T, what string, got json.RawMessage, want map[string]json.RawMessage) {
	t.Helper()
	var g map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	for k, wv := range want {
		var w any
		json.Unmarshal(wv, &w)
		if !reflect.DeepEqual(g[k], w) {
			t.Errorf("%s[%q] = %v, want %v", what, k, g[k], w)
		}
	}
}

func TestLoadFixtures(t *testing.T) {
	for _, name := range cases {
		fx := readFixture(t, name)
		for _, file := range fx.Checkpoints {
			t.Run(file, func(t *testing.T) {
				c, err := Load(filepath.Join("..", "testdata", file))
				if err != nil {
					t.Fatal(err)
				}
				wantFormat := "pytorch-legacy"
				if strings.HasSuffix(file, ".zip.pt") {
					wantFormat = "pytorch-zip"
				}
				if c.Format != wantFormat {
					t.Errorf("Format = %q, want %q", c.Format, wantFormat)
				}
				sameJSON(t, "model_kwargs", c.ModelKwargs, fx.ModelKwargs)
				sameJSON(t, "d_img_kwargs", c.DImgKwargs, fx.DImgKwargs)
				sameJSON(t, "d_obj_kwargs", c.DObjKwargs, fx.DObjKwargs)
				var kw struct {
					EmbeddingDim int `json:"embedding_dim"`
					Vocab        struct {
						ObjectIdxToName []string `json:"object_idx_to_name"`
					} `json:"vocab"`
					VecNoiseDim *int `json:"vec_noise_dim"`
				}
				if err := json.Unmarshal(c.ModelKwargs, &kw); err != nil {
					t.Fatal(err)
				}
				if len(kw.Vocab.ObjectIdxToName) == 0 {
					t.Errorf("model_kwargs has no vocab.object_idx_to_name: %s", c.ModelKwargs)
				}
				if (kw.VecNoiseDim != nil) != (name == "tiny_oldformat") {
					t.Errorf("vec_noise_dim present = %v", kw.VecNoiseDim != nil)
				}
				if c.Args == nil || len(c.DImg) == 0 || len(c.DObj) == 0 {
					t.Errorf("missing args, d_img_state or d_obj_state")
				}
				emb := c.Model[0]
				// sg2im embeds num_objs + 1 objects.
				wantShape := []int{len(kw.Vocab.ObjectIdxToName) + 1, kw.EmbeddingDim}
				if emb.Name != "obj_embeddings.weight" || emb.DType != F32 || !reflect.DeepEqual(emb.T.Shape, wantShape) {
					t.Errorf("first tensor %s %s %v, want obj_embeddings.weight F32 %v", emb.Name, emb.DType, emb.T.Shape, wantShape)
				}
				if c.DObj[0].Name != "discriminator.cnn.0.0.weight" || c.DImg[0].Name != "cnn.0.weight" {
					t.Errorf("discriminators start with %q and %q", c.DObj[0].Name, c.DImg[0].Name)
				}
				var counters int
				for _, x := range append(append(c.Model, c.DImg...), c.DObj...) {
					if strings.HasSuffix(x.Name, "num_batches_tracked") {
						counters++
						if x.DType != I64 || len(x.T.Shape) != 0 || len(x.T.Data) != 1 {
							t.Errorf("%s: %s %v, want a 0-dim I64", x.Name, x.DType, x.T.Shape)
						}
					} else if x.DType != F32 {
						t.Errorf("%s: dtype %s", x.Name, x.DType)
					}
				}
				if (counters == 0) != (name == "tiny_oldformat") {
					t.Errorf("%d num_batches_tracked entries", counters)
				}
			})
		}
	}
}

func TestFixtureValues(t *testing.T) {
	// The first values of obj_embeddings.weight, read from the zip record
	// tiny_masks.zip/data/0 with Python's struct module.
	want := []float32{-1.5255959, -0.7502318, -0.6539809}
	c, err := Decode(readTestdata(t, "tiny_masks.zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Model[0].T.Data[:3]; !reflect.DeepEqual(got, want) {
		t.Errorf("obj_embeddings.weight starts %v, want %v", got, want)
	}
}

func TestLegacyEqualsZip(t *testing.T) {
	l, err := Decode(readTestdata(t, "tiny_masks.legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	z, err := Decode(readTestdata(t, "tiny_masks.zip.pt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2][]Tensor{{l.Model, z.Model}, {l.DImg, z.DImg}, {l.DObj, z.DObj}} {
		if !reflect.DeepEqual(p[0], p[1]) {
			t.Errorf("legacy and zip state dicts differ")
		}
	}
	if !bytes.Equal(l.ModelKwargs, z.ModelKwargs) {
		t.Errorf("model_kwargs differ:\n%s\n%s", l.ModelKwargs, z.ModelKwargs)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, name := range cases {
		for _, file := range readFixture(t, name).Checkpoints {
			c, err := Decode(readTestdata(t, file))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := c.WriteSafetensors(&b); err != nil {
				t.Fatal(err)
			}
			f, err := ReadSafetensors(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if f.Metadata["format"] != "sg2im" || f.Get("d_img.cnn.0.weight") == nil ||
				f.Get("d_obj.discriminator.cnn.0.0.weight") == nil || f.Get("obj_embeddings.weight") == nil {
				t.Errorf("%s: unexpected layout: metadata keys %v", file, f.Metadata)
			}
			back, err := Decode(b.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if back.Format != "safetensors" {
				t.Errorf("Format = %q", back.Format)
			}
			back.Format = c.Format
			if !reflect.DeepEqual(back, c) {
				t.Errorf("%s: checkpoint changed through safetensors", file)
			}
		}
	}
}

func TestSaveLoad(t *testing.T) {
	c, err := Decode(readTestdata(t, "tiny_linear.legacy.pt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	back.Format = c.Format
	if !reflect.DeepEqual(back, c) {
		t.Errorf("checkpoint changed through Save and Load")
	}
}

func TestStateDictPrefixAndMissing(t *testing.T) {
	st := f32Storage("0", 1, 2, 3, 4, 5, 6)
	ck := fakeCheckpoint{
		kwargs: map[string]int{"embedding_dim": 3},
		model:  []fakeTensor{{name: "module.w", st: st, size: []int{2, 3}, stride: []int{3, 1}}},
	}
	for _, data := range [][]byte{ck.legacy(), ck.zip(t)} {
		c, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Model) != 1 || c.Model[0].Name != "w" || !reflect.DeepEqual(c.Model[0].T.Data, []float32{1, 2, 3, 4, 5, 6}) {
			t.Errorf("model %+v", c.Model)
		}
		if c.DImg != nil || c.DObj != nil || c.Args != nil || c.DImgKwargs != nil {
			t.Errorf("absent parts are not nil: %+v", c)
		}
	}
	noState := fakeCheckpoint{kwargs: map[string]int{"a": 1}}
	noKwargs := fakeCheckpoint{model: ck.model}
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{noState.legacy(), "no model_state"},
		{noState.zip(t), "no model_state"},
		{noKwargs.legacy(), "no model_kwargs"},
		{noKwargs.zip(t), "no model_kwargs"},
	} {
		_, err := Decode(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one saying %q", err, tc.want)
		}
	}
}

func TestUnknownClassesLoad(t *testing.T) {
	// Extra entries of classes the package does not know (a defaultdict of
	// lists, an optimizer-like object with BUILD state) must not stop the
	// load; args given as an argparse.Namespace become its dict.
	ck := fakeCheckpoint{
		kwargs: map[string]int{"embedding_dim": 3},
		model:  []fakeTensor{{name: "w", st: f32Storage("0", 1), size: []int{}, stride: []int{}}},
		extra: func(p *pk) {
			p.str("losses").global("collections", "defaultdict").global("__builtin__", "list").op(0x85, 'R')
			p.op('(').str("G_loss").op(']', '(').int(1).int(2).op('e', 'u')
			p.str("optim_state").global("torch.optim.adam", "Adam").op(')', 0x81, '}').str("lr").int(3).op('s', 'b')
			p.str("args").global("argparse", "Namespace").op(')', 'R', '}').str("batch_size").int(32).op('s')
			p.str("t").op(0x8a, 0, 's', 'b') // Python 2's 0L: an empty LONG1
		},
	}
	c, err := Decode(ck.legacy())
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Args) != `{"batch_size":32,"t":0}` {
		t.Errorf("args = %s", c.Args)
	}
	if len(c.Model) != 1 || len(c.Model[0].T.Shape) != 0 || c.Model[0].T.Data[0] != 1 {
		t.Errorf("model = %+v", c.Model)
	}
}

func TestWriteCheckpointErrors(t *testing.T) {
	one := []Tensor{{Name: "w", T: nnFrom([]float32{1}, 1)}}
	for _, c := range []*Checkpoint{
		{Model: one}, // no kwargs
		{ModelKwargs: json.RawMessage(`{`), Model: one}, // bad JSON
		{ModelKwargs: json.RawMessage(`{}`), Model: append(one, Tensor{Name: "d_img.x", T: nnFrom([]float32{1}, 1)})},
		{ModelKwargs: json.RawMessage(`{}`), Model: append(one, one...)}, // duplicate
	} {
		if err := c.WriteSafetensors(&bytes.Buffer{}); err == nil {
			t.Errorf("no error writing %+v", c)
		}
	}
}

func ExampleLoad() {
	c, err := Load("../testdata/tiny_linear.legacy.pt")
	if err != nil {
		fmt.Println(err)
		return
	}
	var kw struct {
		ImageSize []int `json:"image_size"`
	}
	if err := json.Unmarshal(c.ModelKwargs, &kw); err != nil {
		fmt.Println(err)
		return
	}
	w := c.Model[0]
	fmt.Println(c.Format, kw.ImageSize, w.Name, w.DType, w.T.Shape)
	// Output: pytorch-legacy [16 32] obj_embeddings.weight F32 [12 8]
}
