package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// stateFormat marks a training-state file; stateVersion changes with its
// layout.
const (
	stateFormat  = "sg2im-train-state"
	stateVersion = "1"
)

// Tensor name prefixes of a training-state file.
const (
	prefixG       = "g."
	prefixDImg    = "d_img."
	prefixDObj    = "d_obj."
	prefixOptG    = "opt_g."
	prefixOptDImg = "opt_d_img."
	prefixOptDObj = "opt_d_obj."
)

// WeightsPath and StatePath are the checkpoint files of a run.
func WeightsPath(dir, name string) string { return filepath.Join(dir, name+".safetensors") }
func StatePath(dir, name string) string   { return filepath.Join(dir, name+".state.safetensors") }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("train: " + err.Error())
	}
	return b
}

// objKwargs are d_obj's kwargs as the release stores them, with the vocab.
type objKwargs struct {
	Vocab *model.Vocab `json:"vocab"`
	model.DConfig
}

// nets are the networks and optimisers of a run.
type nets struct {
	g    *model.Generator
	dImg *model.ImageDiscriminator
	dObj *model.ObjectDiscriminator
	tr   *Trainer
}

func (n *nets) modelKwargs() json.RawMessage { return mustJSON(n.g.Config) }

func (n *nets) dImgKwargs() json.RawMessage {
	if n.dImg == nil {
		return nil
	}
	return mustJSON(n.dImg.Config)
}

func (n *nets) dObjKwargs() json.RawMessage {
	if n.dObj == nil {
		return nil
	}
	return mustJSON(objKwargs{n.g.Config.Vocab, n.dObj.Config})
}

// discState is a discriminator's state dict, num_batches_tracked as int64
// as PyTorch keeps it.
func discState(params, buffers []model.Named) []weights.Tensor {
	var out []weights.Tensor
	for _, group := range [][]model.Named{params, buffers} {
		for _, p := range group {
			dt := weights.F32
			if strings.HasSuffix(p.Name, ".num_batches_tracked") {
				dt = weights.I64
			}
			out = append(out, weights.Tensor{Name: p.Name, DType: dt, T: p.T})
		}
	}
	return out
}

// weightsCheckpoint is the sg2im checkpoint of the networks: what
// sg2im generate and the browser app load.
func (n *nets) weightsCheckpoint(args json.RawMessage) *weights.Checkpoint {
	ck := &weights.Checkpoint{Args: args, ModelKwargs: n.modelKwargs(), Model: n.g.State()}
	if n.dImg != nil {
		ck.DImgKwargs, ck.DImg = n.dImgKwargs(), discState(n.dImg.Params(), n.dImg.Buffers())
	}
	if n.dObj != nil {
		ck.DObjKwargs, ck.DObj = n.dObjKwargs(), discState(n.dObj.Params(), n.dObj.Buffers())
	}
	return ck
}

// optTensors lists an optimiser's moments under its parameters' names and
// its step counts as one int64 tensor.
func optTensors(prefix string, opt *nn.Adam, params []model.Named) []weights.Tensor {
	var out []weights.Tensor
	steps := nn.New(len(params))
	for i, p := range params {
		out = append(out,
			weights.Tensor{Name: prefix + "m." + p.Name, DType: weights.F32, T: nn.FromData(opt.M[i], p.T.Shape...)},
			weights.Tensor{Name: prefix + "v." + p.Name, DType: weights.F32, T: nn.FromData(opt.V[i], p.T.Shape...)})
		steps.Data[i] = float32(opt.Steps[i])
	}
	return append(out, weights.Tensor{Name: prefix + "steps", DType: weights.I64, T: steps})
}

func prefixed(prefix string, ts []weights.Tensor) []weights.Tensor {
	out := make([]weights.Tensor, len(ts))
	for i, t := range ts {
		t.Name = prefix + t.Name
		out[i] = t
	}
	return out
}

// stateTensors is everything a training-state file holds as tensors.
func (n *nets) stateTensors() []weights.Tensor {
	ts := prefixed(prefixG, n.g.State())
	ts = append(ts, optTensors(prefixOptG, n.tr.OptG, n.g.Params())...)
	if n.dImg != nil {
		ts = append(ts, prefixed(prefixDImg, discState(n.dImg.Params(), n.dImg.Buffers()))...)
		ts = append(ts, optTensors(prefixOptDImg, n.tr.OptImg, n.dImg.Params())...)
	}
	if n.dObj != nil {
		ts = append(ts, prefixed(prefixDObj, discState(n.dObj.Params(), n.dObj.Buffers()))...)
		ts = append(ts, optTensors(prefixOptDObj, n.tr.OptObj, n.dObj.Params())...)
	}
	return ts
}

// stateMetadata is a training-state file's metadata.
func (n *nets) stateMetadata(args json.RawMessage, st *State) map[string]string {
	md := map[string]string{
		"format": stateFormat, "version": stateVersion,
		"args": string(args), "state": string(mustJSON(st)), "model_kwargs": string(n.modelKwargs()),
	}
	if k := n.dImgKwargs(); k != nil {
		md["d_img_kwargs"] = string(k)
	}
	if k := n.dObjKwargs(); k != nil {
		md["d_obj_kwargs"] = string(k)
	}
	return md
}

// saved is a training-state file read back.
type saved struct {
	args  json.RawMessage
	cfg   Config
	state State
	nets  *nets
}

// CheckpointError is a checkpoint that cannot be read or does not fit the
// run.
type CheckpointError struct {
	Path string
	Err  error
}

func (e *CheckpointError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *CheckpointError) Unwrap() error { return e.Err }

// readState reads a training-state file and rebuilds its networks and
// optimisers with cfg's learning rate and loss weights taken from the file.
func readState(path string) (*saved, error) {
	fail := func(err error) (*saved, error) { return nil, &CheckpointError{path, err} }
	raw, err := os.ReadFile(path)
	if err != nil {
		return fail(err)
	}
	f, err := weights.ReadSafetensors(raw)
	if err != nil {
		return fail(err)
	}
	md := f.Metadata
	if md["format"] != stateFormat {
		return fail(fmt.Errorf("not a training-state file (format %q, want %q)", md["format"], stateFormat))
	}
	if md["version"] != stateVersion {
		return fail(fmt.Errorf("training-state version %q; this program reads version %s", md["version"], stateVersion))
	}
	s := &saved{args: json.RawMessage(md["args"]), cfg: DefaultConfig()}
	if err := json.Unmarshal([]byte(md["args"]), &s.cfg); err != nil {
		return fail(fmt.Errorf("args: %v", err))
	}
	if err := json.Unmarshal([]byte(md["state"]), &s.state); err != nil {
		return fail(fmt.Errorf("state: %v", err))
	}
	mc, _, err := model.ParseConfig([]byte(md["model_kwargs"]))
	if err != nil {
		return fail(err)
	}
	byPrefix, err := groupByPrefix(f.Tensors)
	if err != nil {
		return fail(err)
	}
	n := &nets{}
	if err := mc.CheckState(byPrefix[prefixG]); err != nil {
		return fail(err)
	}
	if n.g, err = model.New(mc); err != nil {
		return fail(err)
	}
	if err := n.g.LoadState(byPrefix[prefixG]); err != nil {
		return fail(fmt.Errorf("generator: %w", err))
	}
	if k, ok := md["d_img_kwargs"]; ok {
		if n.dImg, err = model.LoadImageDiscriminator([]byte(k), byPrefix[prefixDImg]); err != nil {
			return fail(err)
		}
	}
	if k, ok := md["d_obj_kwargs"]; ok {
		if n.dObj, err = model.LoadObjectDiscriminator([]byte(k), len(mc.Vocab.ObjectIdxToName), byPrefix[prefixDObj]); err != nil {
			return fail(err)
		}
	}
	if n.tr, err = NewTrainer(s.cfg.StepConfig(), n.g, n.dImg, n.dObj); err != nil {
		return fail(err)
	}
	if err := loadOpt(n.tr.OptG, n.g.Params(), byPrefix[prefixOptG]); err != nil {
		return fail(fmt.Errorf("generator optimiser: %w", err))
	}
	if n.dImg != nil {
		if err := loadOpt(n.tr.OptImg, n.dImg.Params(), byPrefix[prefixOptDImg]); err != nil {
			return fail(fmt.Errorf("d_img optimiser: %w", err))
		}
	}
	if n.dObj != nil {
		if err := loadOpt(n.tr.OptObj, n.dObj.Params(), byPrefix[prefixOptDObj]); err != nil {
			return fail(fmt.Errorf("d_obj optimiser: %w", err))
		}
	}
	s.nets = n
	return s, nil
}

// groupByPrefix sorts a state file's tensors by the network or optimiser
// they belong to, their names without its prefix.
func groupByPrefix(ts []weights.Tensor) (map[string]map[string]*nn.Tensor, error) {
	prefixes := []string{prefixOptG, prefixOptDImg, prefixOptDObj, prefixG, prefixDImg, prefixDObj}
	byPrefix := map[string]map[string]*nn.Tensor{}
	for _, p := range prefixes {
		byPrefix[p] = map[string]*nn.Tensor{}
	}
	for _, t := range ts {
		found := false
		for _, p := range prefixes {
			if strings.HasPrefix(t.Name, p) {
				byPrefix[p][t.Name[len(p):]] = t.T
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unexpected tensor %q", t.Name)
		}
	}
	return byPrefix, nil
}

// loadOpt copies saved moments and step counts into opt.
func loadOpt(opt *nn.Adam, params []model.Named, ts map[string]*nn.Tensor) error {
	steps := ts["steps"]
	if steps == nil || steps.Numel() != len(params) {
		return errors.New("step counts missing or of the wrong length")
	}
	for i, p := range params {
		m, v := ts["m."+p.Name], ts["v."+p.Name]
		if m == nil || v == nil || m.Numel() != len(opt.M[i]) || v.Numel() != len(opt.V[i]) {
			return fmt.Errorf("moments of %s missing or of the wrong size", p.Name)
		}
		copy(opt.M[i], m.Data)
		copy(opt.V[i], v.Data)
		opt.Steps[i] = int64(steps.Data[i])
	}
	if len(ts) != 2*len(params)+1 {
		return fmt.Errorf("%d tensors for %d parameters", len(ts), len(params))
	}
	return nil
}
