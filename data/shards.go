package data

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// Shard files hold training examples for trainers without Go (the PyTorch
// trainer in pytorch/, which reads them with shards.py). DIR/index.json
// lists the shards and the set's configuration; shard-NNNNN.safetensors
// holds a run of examples: images once (images, F32 (E, 3, H, W), as the
// dataset hands them to the model) and one record per example and draw:
// objs (I64), boxes (F32 (R, 4)), masks (F32 (R, M, M), with masks) and
// triples (I64 (T, 3), indices into the record's objects), cut by obj_start
// and triple_start (I64, records+1 entries; record r is example r/draws,
// draw r%draws).
//
// Draw d of example i is what the dataset gives for i with the rng stream
// (seed, d<<32 | i): the release draws a fresh scene graph (COCO's random
// geometric relationships, Visual Genome's object subsample) every time it
// loads an image; a shard set carries draws of them, and epoch e of a
// trainer uses draw e % draws.
const (
	ShardFormat  = "sg2im-shards"
	ShardVersion = 1
	shardIndex   = "index.json"
)

// ShardOptions configure WriteShards.
type ShardOptions struct {
	Dir         string
	NumExamples int // the first NumExamples of the dataset; 0: all
	ShardSize   int // examples per shard
	Draws       int // scene-graph draws per example
	Seed        uint64
	ImageSize   [2]int
	MaskSize    int
	Workers     int
	// Args describe the dataset (its flags); they are part of the set's
	// identity, so a resumed run with other args is refused.
	Args map[string]any
	// Progress, when set, is called after each shard with the examples
	// done (written or found complete) and the total.
	Progress func(done, total int)
	// Warn receives examples skipped because they failed to load.
	Warn func(msg string)
}

// ShardIndex is DIR/index.json.
type ShardIndex struct {
	Format      string         `json:"format"`
	Version     int            `json:"version"`
	ImageSize   [2]int         `json:"image_size"`
	MaskSize    int            `json:"mask_size"`
	Draws       int            `json:"draws"`
	Seed        uint64         `json:"seed"`
	ShardSize   int            `json:"shard_size"`
	NumExamples int            `json:"num_examples"` // examples written (skipped ones left out)
	Requested   int            `json:"requested"`    // dataset examples read
	Vocab       *model.Vocab   `json:"vocab"`
	Args        map[string]any `json:"args"`
	Shards      []ShardEntry   `json:"shards"`
}

// ShardEntry is one shard of the index.
type ShardEntry struct {
	File     string `json:"file"`
	First    int    `json:"first"`    // dataset index of its first example
	Examples int    `json:"examples"` // examples it holds
	Skipped  int    `json:"skipped"`  // examples of its range that failed to load
}

// maxRecords bounds the records of a shard so that object offsets (at
// most 64 objects a record) stay below 2^24.
const maxRecords = 1 << 18

// maxShardBytes bounds one shard in memory while it is built.
const maxShardBytes = 4 << 30

// WriteShards writes ds as shard files in o.Dir, each atomically, then
// the index. Shards already there from an interrupted run of the same
// configuration are kept; shards of another configuration are an error.
func WriteShards(ds Dataset, o ShardOptions) (*ShardIndex, error) {
	n := ds.Len()
	if o.NumExamples > 0 {
		n = min(n, o.NumExamples)
	}
	switch {
	case n == 0:
		return nil, errors.New("data: the dataset is empty; check its paths and filters")
	case o.ShardSize < 1 || o.Draws < 1:
		return nil, fmt.Errorf("data: shard size %d and draws %d: want at least 1", o.ShardSize, o.Draws)
	case o.ShardSize*o.Draws > maxRecords:
		// Offsets are stored through float32: keep them exact.
		return nil, fmt.Errorf("data: %d examples a shard times %d draws: want at most %d records a shard; lower --shard_size", o.ShardSize, o.Draws, maxRecords)
	}
	per := 4 * (3*o.ImageSize[0]*o.ImageSize[1] + o.Draws*64*(4+o.MaskSize*o.MaskSize+8))
	if int64(per)*int64(o.ShardSize) > maxShardBytes {
		return nil, fmt.Errorf("data: shards of %d examples would take over %d GiB in memory; lower --shard_size", o.ShardSize, maxShardBytes>>30)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	ix := &ShardIndex{Format: ShardFormat, Version: ShardVersion, ImageSize: o.ImageSize, MaskSize: o.MaskSize,
		Draws: o.Draws, Seed: o.Seed, ShardSize: o.ShardSize, Requested: n, Vocab: ds.Vocab(), Args: o.Args}
	id, err := json.Marshal(ShardIndex{ImageSize: ix.ImageSize, MaskSize: ix.MaskSize, Draws: ix.Draws, Seed: ix.Seed,
		ShardSize: ix.ShardSize, Requested: n, Args: o.Args})
	if err != nil {
		return nil, err
	}
	for first := 0; first < n; first += o.ShardSize {
		e := ShardEntry{File: fmt.Sprintf("shard-%05d.safetensors", first/o.ShardSize), First: first}
		path := filepath.Join(o.Dir, e.File)
		md, err := readShardMetadata(path)
		switch {
		case err == nil && md["config"] != string(id):
			return nil, fmt.Errorf("data: %s belongs to shards of another configuration; write to a new --out or delete %s", path, o.Dir)
		case err == nil:
			fmt.Sscan(md["examples"], &e.Examples)
			fmt.Sscan(md["skipped"], &e.Skipped)
		case errors.Is(err, os.ErrNotExist):
			if e, err = writeShard(ds, o, e, min(first+o.ShardSize, n), string(id)); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("data: %s: %w (delete it to write it again)", path, err)
		}
		ix.Shards = append(ix.Shards, e)
		ix.NumExamples += e.Examples
		if o.Progress != nil {
			o.Progress(min(first+o.ShardSize, n), n)
		}
	}
	err = weights.WriteFileAtomic(filepath.Join(o.Dir, shardIndex), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(ix)
	})
	return ix, err
}

// readShardMetadata reads a safetensors file's metadata without its data.
func readShardMetadata(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return nil, errors.New("not a safetensors file")
	}
	if n > 1<<20 {
		return nil, errors.New("not a shard: header too large")
	}
	h := make([]byte, n)
	if _, err := io.ReadFull(f, h); err != nil {
		return nil, errors.New("truncated header")
	}
	var head struct {
		Metadata map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(bytes.TrimRight(h, " "), &head); err != nil || head.Metadata["format"] != ShardFormat {
		return nil, errors.New("not an sg2im shard")
	}
	return head.Metadata, nil
}

// drawn is one example's draws, or why it failed.
type drawn struct {
	exs []*Example
	err error
}

// drawExamples loads examples [first, end) with all their draws on
// o.Workers goroutines.
func drawExamples(ds Dataset, o ShardOptions, first, end int) []drawn {
	out := make([]drawn, end-first)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(o.Workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d := &out[i-first]
				for k := range o.Draws {
					ex, err := ds.Example(i, rand.New(rand.NewPCG(o.Seed, uint64(k)<<32|uint64(i))))
					if err != nil {
						d.err = err
						break
					}
					d.exs = append(d.exs, ex)
				}
			}
		}()
	}
	for i := first; i < end; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// writeShard builds and writes the shard of examples [e.First, end).
func writeShard(ds Dataset, o ShardOptions, e ShardEntry, end int, id string) (ShardEntry, error) {
	H, W, M := o.ImageSize[0], o.ImageSize[1], o.MaskSize
	var images, objs, boxes, masks, triples []float32
	objStart, tripleStart := []float32{0}, []float32{0}
	for k, d := range drawExamples(ds, o, e.First, end) {
		if d.err != nil {
			e.Skipped++
			if o.Warn != nil {
				o.Warn(fmt.Sprintf("example %d skipped: %v", e.First+k, d.err))
			}
			continue
		}
		img := d.exs[0].Image
		if len(img.Shape) != 3 || img.Shape[0] != 3 || img.Shape[1] != H || img.Shape[2] != W {
			return e, fmt.Errorf("data: example %d: image of shape %v, want (3, %d, %d)", e.First+k, img.Shape, H, W)
		}
		images = append(images, img.Data...)
		for _, ex := range d.exs {
			for j, id := range ex.Objs {
				objs = append(objs, float32(id))
				boxes = append(boxes, ex.Boxes[j][:]...)
				if M > 0 {
					if j >= len(ex.Masks) || len(ex.Masks[j]) != M*M {
						return e, fmt.Errorf("data: example %d, object %d: no %dx%d mask", e.First+k, j, M, M)
					}
					masks = append(masks, ex.Masks[j]...)
				}
			}
			for _, t := range ex.Triples {
				triples = append(triples, float32(t[0]), float32(t[1]), float32(t[2]))
			}
			objStart = append(objStart, float32(len(objs)))
			tripleStart = append(tripleStart, float32(len(triples)/3))
		}
		e.Examples++
	}
	nObj := len(objs)
	ts := []weights.Tensor{
		{Name: "images", DType: weights.F32, T: nn.FromData(images, e.Examples, 3, H, W)},
		{Name: "objs", DType: weights.I64, T: nn.FromData(objs, nObj)},
		{Name: "boxes", DType: weights.F32, T: nn.FromData(boxes, nObj, 4)},
		{Name: "triples", DType: weights.I64, T: nn.FromData(triples, len(triples)/3, 3)},
		{Name: "obj_start", DType: weights.I64, T: nn.FromData(objStart, len(objStart))},
		{Name: "triple_start", DType: weights.I64, T: nn.FromData(tripleStart, len(tripleStart))},
	}
	if M > 0 {
		ts = append(ts, weights.Tensor{Name: "masks", DType: weights.F32, T: nn.FromData(masks, nObj, M, M)})
	}
	md := map[string]string{"format": ShardFormat, "config": id, "first": fmt.Sprint(e.First),
		"examples": fmt.Sprint(e.Examples), "skipped": fmt.Sprint(e.Skipped), "draws": fmt.Sprint(o.Draws)}
	err := weights.WriteFileAtomic(filepath.Join(o.Dir, e.File), func(w io.Writer) error {
		return weights.WriteSafetensors(w, md, ts)
	})
	return e, err
}
