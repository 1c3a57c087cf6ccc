package data_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

func shardWorld(t *testing.T) data.Dataset {
	t.Helper()
	opts := world.DefaultOptions()
	opts.ImageSize, opts.MaskSize, opts.N = 32, 8, 100
	w, err := world.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func shardOptions(dir string) data.ShardOptions {
	return data.ShardOptions{Dir: dir, NumExamples: 10, ShardSize: 4, Draws: 3, Seed: 9,
		ImageSize: [2]int{32, 32}, MaskSize: 8, Workers: 3, Args: map[string]any{"dataset": "world"}}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// TestShardsDeterministicAndResumable: the same options write the same
// bytes whatever the number of workers; a run interrupted after some
// shards (no index yet) finishes to the same files; a directory of
// another configuration is refused.
func TestShardsDeterministicAndResumable(t *testing.T) {
	ds := shardWorld(t)
	a, b := t.TempDir(), t.TempDir()
	ix, err := data.WriteShards(ds, shardOptions(a))
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Shards) != 3 || ix.NumExamples != 10 || ix.Shards[2].Examples != 2 {
		t.Fatalf("index: %d shards, %d examples; want 3 shards of 4, 4, 2", len(ix.Shards), ix.NumExamples)
	}
	o := shardOptions(b)
	o.Workers = 1
	if _, err := data.WriteShards(ds, o); err != nil {
		t.Fatal(err)
	}
	want := readDir(t, a)
	if got := readDir(t, b); len(got) != len(want) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	for name, w := range want {
		if !bytes.Equal(readDir(t, b)[name], w) {
			t.Errorf("%s differs between 3 workers and 1", name)
		}
	}

	// An interrupted run: the index and the last shard were never written.
	os.Remove(filepath.Join(b, "index.json"))
	os.Remove(filepath.Join(b, "shard-00002.safetensors"))
	keep, _ := os.Stat(filepath.Join(b, "shard-00000.safetensors"))
	if _, err := data.WriteShards(ds, shardOptions(b)); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(filepath.Join(b, "shard-00000.safetensors")); !again.ModTime().Equal(keep.ModTime()) {
		t.Error("the resumed run rewrote a complete shard")
	}
	for name, w := range want {
		if !bytes.Equal(readDir(t, b)[name], w) {
			t.Errorf("%s differs after resuming", name)
		}
	}

	o = shardOptions(b)
	o.Seed = 10
	if _, err := data.WriteShards(ds, o); err == nil || !strings.Contains(err.Error(), "another configuration") {
		t.Errorf("another seed in the same directory: err %v, want a refusal naming another configuration", err)
	}
}

// TestShardsDraws: the draws of an example share its image but redraw
// its scene graph, as the release does every epoch.
func TestShardsDraws(t *testing.T) {
	ds := shardWorld(t)
	dir := t.TempDir()
	if _, err := data.WriteShards(ds, shardOptions(dir)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "shard-00000.safetensors"))
	f, err := weightsRead(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := f["images"].Shape; got[0] != 4 || got[1] != 3 || got[2] != 32 {
		t.Errorf("images shape %v, want (4, 3, 32, 32)", got)
	}
	if n := f["obj_start"].Numel(); n != 4*3+1 {
		t.Errorf("%d record offsets, want 13 (4 examples x 3 draws + 1)", n)
	}
	differ := 0
	ts, st := f["triples"].Data, f["triple_start"].Data
	for e := 0; e < 4; e++ {
		a := ts[3*int(st[3*e]) : 3*int(st[3*e+1])]
		b := ts[3*int(st[3*e+1]) : 3*int(st[3*e+2])]
		if !slices.Equal(a, b) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("every example has the same triples in draws 0 and 1; the draws should redraw relationships")
	}
}

func weightsRead(raw []byte) (map[string]*nn.Tensor, error) {
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		return nil, err
	}
	out := map[string]*nn.Tensor{}
	for _, t := range f.Tensors {
		out[t.Name] = t.T
	}
	return out, nil
}
