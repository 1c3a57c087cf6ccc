package weights

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"github.com/sg2im-go/sg2im/internal/atomicfile"
)

// Checkpoint is what sg2im needs from a release .pt file or from its own
// .safetensors file.
type Checkpoint struct {
	Format string // "pytorch-legacy", "pytorch-zip" or "safetensors"
	Args   json.RawMessage
	// ModelKwargs are the generator's constructor arguments including
	// "vocab", as JSON (Python tuples become arrays, dicts objects).
	ModelKwargs json.RawMessage
	// Model is the generator's state dict in file order, without any
	// "module." prefix. Tensor DTypes are F32 for floating-point storages
	// (whatever their width in the file: values are float32 once loaded)
	// and I64 for integer ones, the types a safetensors copy keeps unless
	// StoreFloatsAs says otherwise.
	Model      []Tensor
	DImgKwargs json.RawMessage // nil when absent
	DImg       []Tensor        // nil when absent
	DObjKwargs json.RawMessage // nil when absent
	DObj       []Tensor        // nil when absent
}

// Prefixes of the discriminators' tensors in a safetensors checkpoint.
const (
	dImgPrefix = "d_img."
	dObjPrefix = "d_obj."
)

// Load reads and decodes the checkpoint file at path, a part at a time:
// tensors are read straight into their float32 values, so the file's
// bytes never sit in memory whole beside them.
func Load(path string) (*Checkpoint, error) {
	c, err := load(path)
	if fe, ok := errors.AsType[*FormatError](err); ok {
		fe.Path = path
	}
	return c, err
}

func load(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: reading checkpoint: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("weights: reading checkpoint: %w", err)
	}
	return DecodeFrom(f, info.Size())
}

// Decode decodes a checkpoint, telling its format from its first bytes: a
// length and a JSON object is a safetensors file, a zip archive PyTorch's
// zip serialisation, a pickle its legacy one.
func Decode(data []byte) (*Checkpoint, error) { return DecodeFrom(memFile(data), int64(len(data))) }

// DecodeFrom decodes a checkpoint of size bytes as Decode does, reading
// it from r a part at a time: its pickles and headers, then each tensor
// straight into its values (other types than float32 a chunk at a time).
// What a file asks to be allocated is bounded by its size before it is.
func DecodeFrom(r io.ReaderAt, size int64) (c *Checkpoint, err error) {
	// The last line of defence: no input may crash the caller.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, formatErr("malformed checkpoint (internal error: %v; please report it)", r)
		}
	}()
	if size <= 0 {
		return nil, formatErr("empty file %s", hintRefetch)
	}
	if int64(int(size)) != size {
		return nil, formatErr("file of %d bytes is too large to load", size)
	}
	head, err := readSpan(r, 0, min(size, 32))
	if err != nil {
		return nil, err
	}
	switch {
	case len(head) > 8 && head[8] == '{':
		// First: a header length can start with any bytes, but a zip
		// (compression method) or legacy file (magic number) never has '{'
		// there.
		f, err := loadSafetensors(r, size)
		if err != nil {
			return nil, err
		}
		return fromFile(f)
	case bytes.HasPrefix(head, []byte("PK")):
		top, tr, err := decodeZip(r, size)
		if err != nil {
			return nil, err
		}
		return fromPickle(top, tr, "pytorch-zip")
	case head[0] == 0x80: // a pickle's PROTO opcode
		top, tr, err := decodeLegacy(r, size)
		if err != nil {
			return nil, err
		}
		return fromPickle(top, tr, "pytorch-legacy")
	case bytes.HasPrefix(head, []byte("version https://git-lfs")):
		return nil, formatErr("this is a Git LFS pointer, not the weights; fetch the real file (git lfs pull)")
	}
	return nil, formatErr("not a PyTorch checkpoint or safetensors file (is it the right file, and complete?)")
}

// fromPickle picks the checkpoint's parts out of a release's dict.
func fromPickle(top any, r *torchReader, format string) (*Checkpoint, error) {
	entries, ok := dictEntries(top)
	if !ok {
		return nil, formatErr("the checkpoint holds a %s, not a dict: not an sg2im checkpoint", describe(top))
	}
	c := &Checkpoint{Format: format}
	kw, _ := lookup(entries, "model_kwargs")
	kwEntries, ok := dictEntries(kw)
	if !ok {
		return nil, formatErr("the checkpoint has no model_kwargs dict: not an sg2im checkpoint")
	}
	if _, ok := lookup(kwEntries, "vocab"); !ok {
		// Some checkpoints keep the vocabulary beside the kwargs.
		if v, ok := lookup(entries, "vocab"); ok {
			d := types.Dict(append(kwEntries[:len(kwEntries):len(kwEntries)], types.DictEntry{Key: "vocab", Value: v}))
			kw = &d
		}
	}
	var err error
	if c.ModelKwargs, err = toJSON(kw); err != nil {
		return nil, err
	}
	if c.Args, err = optionalJSON(entries, "args"); err != nil {
		return nil, err
	}
	if c.DImgKwargs, err = optionalJSON(entries, "d_img_kwargs"); err != nil {
		return nil, err
	}
	if c.DObjKwargs, err = optionalJSON(entries, "d_obj_kwargs"); err != nil {
		return nil, err
	}
	if c.Model, err = r.stateDict(entries, "model_state"); err != nil {
		return nil, err
	}
	if c.Model == nil {
		return nil, formatErr("the checkpoint has no model_state: it holds no generator weights")
	}
	if c.DImg, err = r.stateDict(entries, "d_img_state"); err != nil {
		return nil, err
	}
	if c.DObj, err = r.stateDict(entries, "d_obj_state"); err != nil {
		return nil, err
	}
	return c, nil
}

// optionalJSON converts the entry key, nil when absent or None.
func optionalJSON(entries []types.DictEntry, key string) (json.RawMessage, error) {
	v, ok := lookup(entries, key)
	if !ok || v == nil {
		return nil, nil
	}
	return toJSON(v)
}

// stateDict reads the state dict under key: nil when absent or None.
func (r *torchReader) stateDict(entries []types.DictEntry, key string) ([]Tensor, error) {
	v, ok := lookup(entries, key)
	if !ok || v == nil {
		return nil, nil
	}
	items, ok := dictEntries(v)
	if !ok {
		return nil, formatErr("%s is a %s, not a state dict", key, describe(v))
	}
	out := make([]Tensor, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		name, ok := it.Key.(string)
		if !ok {
			return nil, formatErr("%s has a key %s that is not a string", key, describe(it.Key))
		}
		name = strings.TrimPrefix(name, "module.") // saved from nn.DataParallel
		lt, ok := it.Value.(*lazyTensor)
		if !ok {
			return nil, formatErr("%s[%q] is a %s, not a tensor", key, name, describe(it.Value))
		}
		if seen[name] {
			return nil, formatErr("%s has %q twice", key, name)
		}
		seen[name] = true
		t, dt, err := r.materialise(lt, name)
		if err != nil {
			return nil, within(key, err)
		}
		out = append(out, Tensor{Name: name, DType: keptDType(dt), T: t})
	}
	return out, nil
}

// keptDType is the type a checkpoint keeps for values stored as d.
func keptDType(d DType) DType {
	if d.isFloat() {
		return F32
	}
	return I64
}

// fromFile reads an sg2im safetensors checkpoint.
func fromFile(f *File) (*Checkpoint, error) {
	md := f.Metadata
	if _, ok := md["model_kwargs"]; !ok {
		return nil, formatErr(`safetensors file has no "model_kwargs" metadata: it is not an sg2im checkpoint (convert a release .pt file to get one)`)
	}
	if fm, ok := md["format"]; ok && fm != "sg2im" {
		return nil, formatErr("safetensors file has format %q, not sg2im", fm)
	}
	c := &Checkpoint{Format: "safetensors"}
	for key, dst := range map[string]*json.RawMessage{
		"model_kwargs": &c.ModelKwargs, "args": &c.Args,
		"d_img_kwargs": &c.DImgKwargs, "d_obj_kwargs": &c.DObjKwargs,
	} {
		s, ok := md[key]
		if !ok {
			continue
		}
		if !json.Valid([]byte(s)) {
			return nil, formatErr("safetensors metadata %q is not valid JSON", key)
		}
		*dst = json.RawMessage(s)
	}
	for _, t := range f.Tensors {
		t.DType = keptDType(t.DType)
		switch {
		case strings.HasPrefix(t.Name, dImgPrefix):
			t.Name = t.Name[len(dImgPrefix):]
			c.DImg = append(c.DImg, t)
		case strings.HasPrefix(t.Name, dObjPrefix):
			t.Name = t.Name[len(dObjPrefix):]
			c.DObj = append(c.DObj, t)
		default:
			c.Model = append(c.Model, t)
		}
	}
	if c.Model == nil {
		c.Model = []Tensor{}
	}
	if c.DImg == nil && c.DImgKwargs != nil {
		c.DImg = []Tensor{}
	}
	if c.DObj == nil && c.DObjKwargs != nil {
		c.DObj = []Tensor{}
	}
	return c, nil
}

// WriteSafetensors writes c as an sg2im safetensors file: generator tensors
// under their state-dict names, discriminator tensors prefixed "d_img." and
// "d_obj.", and the kwargs and args as JSON strings in the metadata.
func (c *Checkpoint) WriteSafetensors(w io.Writer) error {
	md := map[string]string{"format": "sg2im"}
	for key, v := range map[string]json.RawMessage{
		"model_kwargs": c.ModelKwargs, "args": c.Args,
		"d_img_kwargs": c.DImgKwargs, "d_obj_kwargs": c.DObjKwargs,
	} {
		if v == nil {
			continue
		}
		if !json.Valid(v) {
			return fmt.Errorf("weights: writing checkpoint: %s is not valid JSON", key)
		}
		md[key] = string(v)
	}
	if c.ModelKwargs == nil {
		return errors.New("weights: writing checkpoint: it has no model_kwargs")
	}
	ts := make([]Tensor, 0, len(c.Model)+len(c.DImg)+len(c.DObj))
	for _, t := range c.Model {
		if strings.HasPrefix(t.Name, dImgPrefix) || strings.HasPrefix(t.Name, dObjPrefix) {
			return fmt.Errorf("weights: writing checkpoint: generator tensor %q would be read back as a discriminator's", t.Name)
		}
		ts = append(ts, t)
	}
	for _, t := range c.DImg {
		t.Name = dImgPrefix + t.Name
		ts = append(ts, t)
	}
	for _, t := range c.DObj {
		t.Name = dObjPrefix + t.Name
		ts = append(ts, t)
	}
	return WriteSafetensors(w, md, ts)
}

// Save writes c as a safetensors file at path, atomically.
func (c *Checkpoint) Save(path string) error {
	return atomicfile.Write(path, c.WriteSafetensors)
}

// StoreFloatsAs has WriteSafetensors store every floating-point tensor as
// d: F32, or F16 or BF16 for a file half the size (values are rounded to
// nearest; loading widens them back to float32).
func (c *Checkpoint) StoreFloatsAs(d DType) error {
	if d != F32 && d != F16 && d != BF16 {
		return fmt.Errorf("weights: cannot store weights as %s (want F32, F16 or BF16)", d)
	}
	for _, state := range [][]Tensor{c.Model, c.DImg, c.DObj} {
		for i := range state {
			if state[i].DType == "" || state[i].DType.isFloat() {
				state[i].DType = d
			}
		}
	}
	return nil
}

// DropDiscriminators leaves the discriminators out of c: what generating
// images needs is the generator alone.
func (c *Checkpoint) DropDiscriminators() {
	c.DImg, c.DImgKwargs, c.DObj, c.DObjKwargs = nil, nil, nil, nil
}
