package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/internal/atomicfile"
	"github.com/sg2im-go/sg2im/model"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// Options configure a run beyond its hyperparameters.
type Options struct {
	Config Config
	// OpenData opens the training split and, when there is one, the
	// validation split (nil otherwise), with images of imageSize (H, W)
	// and masks of maskSize (0: none): the model's sizes, which are the
	// flags' for a fresh run and the checkpoint's otherwise.
	OpenData func(imageSize [2]int, maskSize int) (train, val data.Dataset, err error)
	// OutputDir receives the checkpoints, logs and pictures.
	OutputDir string
	// CheckpointName names the checkpoint files ("checkpoint" if empty).
	CheckpointName string
	// StartFrom is a checkpoint (a release .pt or an sg2im .safetensors)
	// whose generator, and discriminators when they match the flags,
	// initialise a fresh run (the release's --checkpoint_start_from).
	StartFrom string
	// Restore resumes the run in OutputDir when it has a checkpoint (the
	// release's --restore_from_checkpoint); without one the run starts
	// afresh, as the release does.
	Restore bool
	// SetFlags are the flags given on the command line. A resumed run
	// keeps the checkpoint's hyperparameters and reports those of SetFlags
	// whose values differ; the run-length settings (num_iterations,
	// print_every, checkpoint_every, num_val_samples) always come from
	// Config.
	SetFlags map[string]bool
	// Args are extra entries for the checkpoint's "args" (dataset paths).
	Args map[string]any
	// Workers is the number of data-loading goroutines.
	Workers int
	// Log receives messages; Progress the progress line, redrawn in place
	// when Terminal.
	Log, Progress io.Writer
	Terminal      bool
	// AfterStep, when set, is called after every iteration with t.
	AfterStep func(t int)
}

// Result is how a run ended.
type Result struct {
	State       State
	Interrupted bool // the context was cancelled; a checkpoint was written
	WeightsPath string
	StatePath   string
}

// DataError is a data set that cannot be opened or read.
type DataError struct{ Err error }

func (e *DataError) Error() string { return e.Err.Error() }
func (e *DataError) Unwrap() error { return e.Err }

// SkipReporter is implemented by datasets that skip bad entries (missing
// images, unknown categories, degenerate boxes, empty segmentations) with
// counted warnings instead of failing: reason to count. Run prints them.
type SkipReporter interface {
	Skipped() map[string]int
}

// maxBadBatches in a row end a run: the data set is broken, not unlucky.
const maxBadBatches = 20

// Seed streams: each use of the run's seed gets its own constant.
const (
	seedInitG    = 1
	seedInitDImg = 2
	seedInitDObj = 3
	seedNoise    = 4
	seedVal      = 5
	seedSamples  = 6
)

// splitmix64 is a bijective 64-bit mixer (Steele et al., SplitMix).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// deriveSeed is the seed of stream (kind, i) of a run's seed.
func deriveSeed(seed uint64, kind, i uint64) uint64 {
	return splitmix64(seed ^ splitmix64(kind<<56^i))
}

// NoiseSeed is the layout-noise seed of iteration t (counted from 1):
// image i of its batch draws its noise from NoiseSeed(seed, t)+i.
func NoiseSeed(seed uint64, t int) uint64 { return deriveSeed(seed, seedNoise, uint64(t)) }

// run is one training session.
type run struct {
	o       Options
	cfg     Config
	args    json.RawMessage
	st      State
	n       *nets
	trainDS data.Dataset
	valDS   data.Dataset
	sample  *data.TrainBatch // the fixed batch of the sample sheets
	prog    *progress
	lossLog *os.File
	valLog  *os.File
	lastCk  int // t of the last checkpoint written
}

// Run trains until Config.NumIterations or until ctx is cancelled; either
// way it writes a checkpoint before returning. A cancelled run returns a
// Result with Interrupted set and no error.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.CheckpointName == "" {
		o.CheckpointName = "checkpoint"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	r := &run{o: o, cfg: o.Config, lastCk: -1}
	if err := r.cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutputDir, 0o755); err != nil {
		return nil, err
	}
	if err := r.removeStaleTemps(); err != nil {
		return nil, err
	}
	if err := r.setup(); err != nil {
		return nil, err
	}
	defer r.closeLogs()
	return r.loop(ctx)
}

// removeStaleTemps deletes the partial files (checkpoints, plots, sample
// sheets) that a killed run left in the output directory.
func (r *run) removeStaleTemps() error {
	for _, dir := range []string{r.o.OutputDir, filepath.Join(r.o.OutputDir, "samples")} {
		removed, err := atomicfile.RemoveStaleTemps(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		for _, p := range removed {
			r.logf("Removed %s, a partial file of an earlier run that was stopped while writing it", p)
		}
	}
	return nil
}

func (r *run) logf(format string, a ...any) {
	if r.prog != nil {
		r.prog.clear()
	}
	fmt.Fprintf(r.o.Log, format+"\n", a...)
}

// setup restores or builds the networks, opens the data and the logs.
func (r *run) setup() error {
	statePath := StatePath(r.o.OutputDir, r.o.CheckpointName)
	restored := false
	if r.o.Restore {
		if _, err := os.Stat(statePath); err == nil {
			s, err := readState(statePath)
			if err != nil {
				return err
			}
			r.logf("Restoring from checkpoint %s at t = %d (epoch %d)", statePath, s.state.T, s.state.Epoch)
			r.resumeFrom(s)
			restored = true
			if r.o.StartFrom != "" {
				r.logf("warning: --checkpoint_start_from %s ignored: the run resumes from its own checkpoint", r.o.StartFrom)
			}
		} else {
			r.logf("No checkpoint %s to restore; starting from scratch", statePath)
		}
	}

	// The model's sizes decide how the data is read.
	var start *weights.Checkpoint
	var startG *model.Generator
	imageSize, maskSize := r.cfg.ImageSize, r.cfg.MaskSize
	switch {
	case restored:
		imageSize, maskSize = r.n.g.Config.ImageSize, r.n.g.Config.MaskSize
	case r.o.StartFrom != "":
		var err error
		if start, err = weights.Load(r.o.StartFrom); err != nil {
			return &CheckpointError{r.o.StartFrom, err}
		}
		var warnings []string
		if startG, warnings, err = model.FromCheckpoint(start); err != nil {
			return &CheckpointError{r.o.StartFrom, err}
		}
		for _, w := range warnings {
			r.logf("warning: %s: %s", r.o.StartFrom, w)
		}
		r.adoptModelConfig(startG.Config)
		if err := r.cfg.Validate(); err != nil {
			return &CheckpointError{r.o.StartFrom, fmt.Errorf("its model does not fit the other flags: %w", err)}
		}
		imageSize, maskSize = r.cfg.ImageSize, r.cfg.MaskSize
	}

	var err error
	r.trainDS, r.valDS, err = r.o.OpenData(imageSize, maskSize)
	if err != nil {
		return &DataError{err}
	}
	if r.trainDS.Len() == 0 {
		return &DataError{errors.New("the training set is empty: check its paths and filters (min_object_size, min/max_objects_per_image, coco_stuff_only)")}
	}
	if r.valDS != nil && r.valDS.Len() == 0 {
		r.logf("warning: the validation set is empty; validating nothing")
		r.valDS = nil
	}
	vocab := r.trainDS.Vocab()
	if r.valDS != nil && !sameVocab(vocab, r.valDS.Vocab()) {
		return &DataError{errors.New("the training and validation sets have different vocabularies (their category lists differ)")}
	}
	r.reportSkips()

	switch {
	case restored:
		if !sameVocab(vocab, r.n.g.Config.Vocab) {
			return &CheckpointError{statePath, errors.New("the checkpoint's vocabulary differs from the data set's: it was trained on other data")}
		}
	default:
		if err := r.build(vocab, start, startG); err != nil {
			return err
		}
	}
	r.args = r.argsJSON()
	r.logf("Training set: %d images (%d batches of %d per epoch)%s", r.trainDS.Len(),
		(r.trainDS.Len()+r.cfg.BatchSize-1)/r.cfg.BatchSize, r.cfg.BatchSize, r.valInfo())
	r.logf("Generator: %d parameters; %s", r.n.g.NumParams(), r.discInfo())

	if err := r.openLogs(); err != nil {
		return err
	}
	r.sample = r.sampleBatch()
	return nil
}

// resumeFrom takes a saved run's networks, counters and hyperparameters;
// only the run-length settings come from the command line.
func (r *run) resumeFrom(s *saved) {
	want := r.cfg
	r.cfg = s.cfg
	r.cfg.NumIterations, r.cfg.PrintEvery = want.NumIterations, want.PrintEvery
	r.cfg.CheckpointEvery, r.cfg.NumValSamples = want.CheckpointEvery, want.NumValSamples
	r.n, r.st = s.nets, s.state
	// Report flags given now that the checkpoint overrides.
	var now, then map[string]any
	json.Unmarshal(mustJSON(want), &now)
	json.Unmarshal(mustJSON(r.cfg), &then)
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if r.o.SetFlags[k] && fmt.Sprint(now[k]) != fmt.Sprint(then[k]) {
			r.logf("warning: --%s %v ignored: the restored run keeps its %v", k, now[k], then[k])
		}
	}
}

// adoptModelConfig makes the generator flags those of a checkpoint's
// model, as the release builds the model from its model_kwargs.
func (r *run) adoptModelConfig(mc model.Config) {
	c := &r.cfg
	for _, d := range []struct {
		flag      string
		have, got any
	}{{"image_size", c.ImageSize, mc.ImageSize}, {"mask_size", c.MaskSize, mc.MaskSize},
		{"embedding_dim", c.EmbeddingDim, mc.EmbeddingDim}, {"gconv_dim", c.GconvDim, mc.GconvDim},
		{"gconv_hidden_dim", c.GconvHiddenDim, mc.GconvHiddenDim}, {"gconv_num_layers", c.GconvNumLayers, mc.GconvNumLayers},
		{"refinement_network_dims", c.RefinementDims, mc.RefinementDims}, {"normalization", c.Normalization, mc.Normalization},
		{"activation", c.Activation, mc.Activation}, {"layout_noise_dim", c.LayoutNoiseDim, mc.LayoutNoiseDim},
		{"mlp_normalization", c.MLPNormalization, mc.MLPNormalization}, {"appearance_dim", c.AppearanceDim, mc.AppearanceDim},
		{"box_sigmoid", c.BoxSigmoid, mc.BoxSigmoid}, {"instance_embeddings", c.InstanceEmbeddings, mc.InstanceEmbeddings}} {
		if r.o.SetFlags[d.flag] && fmt.Sprint(d.have) != fmt.Sprint(d.got) {
			r.logf("warning: --%s %v ignored: %s has %v", d.flag, d.have, r.o.StartFrom, d.got)
		}
	}
	c.ImageSize, c.MaskSize, c.EmbeddingDim, c.GconvDim = mc.ImageSize, mc.MaskSize, mc.EmbeddingDim, mc.GconvDim
	c.GconvHiddenDim, c.GconvNumLayers, c.RefinementDims = mc.GconvHiddenDim, mc.GconvNumLayers, mc.RefinementDims
	c.Normalization, c.Activation, c.LayoutNoiseDim, c.MLPNormalization = mc.Normalization, mc.Activation, mc.LayoutNoiseDim, mc.MLPNormalization
	c.AppearanceDim, c.BoxSigmoid, c.InstanceEmbeddings = mc.AppearanceDim, mc.BoxSigmoid, mc.InstanceEmbeddings
}

// build makes the networks of a fresh run: random, or the generator of a
// start checkpoint (and its discriminators when they match the flags).
func (r *run) build(vocab *model.Vocab, start *weights.Checkpoint, g *model.Generator) error {
	n := &nets{g: g}
	if g == nil {
		var err error
		if n.g, err = model.New(r.cfg.ModelConfig(vocab)); err != nil {
			return err
		}
		n.g.InitRandom(deriveSeed(r.cfg.Seed, seedInitG, 0))
		if b := r.cfg.BoxBiasInit; len(b) == 4 {
			n.g.SetBoxBias([4]float32{float32(b[0]), float32(b[1]), float32(b[2]), float32(b[3])})
		}
	} else if !sameVocab(vocab, g.Config.Vocab) {
		return &CheckpointError{r.o.StartFrom, fmt.Errorf("its vocabulary (%d object ids, %d predicates) differs from the data set's (%d, %d): it was trained on other data",
			len(g.Config.Vocab.ObjectIdxToName), len(g.Config.Vocab.PredIdxToName), len(vocab.ObjectIdxToName), len(vocab.PredIdxToName))}
	}
	var startImg *model.ImageDiscriminator
	var startObj *model.ObjectDiscriminator
	if start != nil {
		var err error
		if startImg, startObj, err = model.DiscriminatorsFromCheckpoint(start, vocab); err != nil {
			r.logf("warning: %s: discriminators not used: %v", r.o.StartFrom, err)
			startImg, startObj = nil, nil
		}
	}
	if dc, ok := r.cfg.DImgConfig(); ok {
		if startImg != nil && startImg.Config == dc {
			n.dImg = startImg
			r.logf("d_img initialised from %s", r.o.StartFrom)
		} else {
			d, err := model.NewImageDiscriminator(dc)
			if err != nil {
				return err
			}
			d.InitRandom(deriveSeed(r.cfg.Seed, seedInitDImg, 0))
			n.dImg = d
		}
	}
	if dc, ok := r.cfg.DObjConfig(); ok {
		if startObj != nil && startObj.Config == dc {
			n.dObj = startObj
			r.logf("d_obj initialised from %s", r.o.StartFrom)
		} else {
			d, err := model.NewObjectDiscriminator(dc, len(vocab.ObjectIdxToName))
			if err != nil {
				return err
			}
			d.InitRandom(deriveSeed(r.cfg.Seed, seedInitDObj, 0))
			n.dObj = d
		}
	}
	var err error
	if n.tr, err = NewTrainer(r.cfg.StepConfig(), n.g, n.dImg, n.dObj); err != nil {
		return err
	}
	r.n = n
	return nil
}

func sameVocab(a, b *model.Vocab) bool {
	return slices.Equal(a.ObjectIdxToName, b.ObjectIdxToName) && slices.Equal(a.PredIdxToName, b.PredIdxToName)
}

// argsJSON is the checkpoint's "args": the hyperparameters and the extra
// entries of Options.Args.
func (r *run) argsJSON() json.RawMessage {
	var m map[string]any
	json.Unmarshal(mustJSON(r.cfg), &m)
	for k, v := range r.o.Args {
		m[k] = v
	}
	return mustJSON(m)
}

func (r *run) valInfo() string {
	if r.valDS == nil {
		return "; no validation set"
	}
	return fmt.Sprintf("; validation set: %d images", r.valDS.Len())
}

func (r *run) discInfo() string {
	var parts []string
	if r.n.dObj != nil {
		parts = append(parts, fmt.Sprintf("d_obj %s (crop %d)", r.n.dObj.Config.Arch, r.n.dObj.Config.ObjectSize))
	}
	if r.n.dImg != nil {
		parts = append(parts, "d_img "+r.n.dImg.Config.Arch)
	}
	if len(parts) == 0 {
		return "no discriminators"
	}
	return strings.Join(parts, ", ")
}

// reportSkips prints the datasets' counted warnings.
func (r *run) reportSkips() {
	for _, d := range []struct {
		name string
		ds   data.Dataset
	}{{"training", r.trainDS}, {"validation", r.valDS}} {
		sr, ok := d.ds.(SkipReporter)
		if !ok || d.ds == nil {
			continue
		}
		counts := sr.Skipped()
		reasons := slices.Collect(maps.Keys(counts))
		sort.Strings(reasons)
		for _, reason := range reasons {
			if counts[reason] > 0 {
				r.logf("warning: %s set: skipped %d: %s", d.name, counts[reason], reason)
			}
		}
	}
}

// openLogs rewrites losses.jsonl and val.jsonl from the state's history,
// dropping what a previous session logged after its last checkpoint, and
// opens them for appending.
func (r *run) openLogs() error {
	var err error
	if r.lossLog, err = rewriteLog(filepath.Join(r.o.OutputDir, "losses.jsonl"), r.st.History); err != nil {
		return err
	}
	r.valLog, err = rewriteLog(filepath.Join(r.o.OutputDir, "val.jsonl"), r.st.Val)
	return err
}

func rewriteLog[T any](path string, recs []T) (*os.File, error) {
	err := atomicfile.Write(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, rec := range recs {
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
}

func (r *run) closeLogs() {
	for _, f := range []*os.File{r.lossLog, r.valLog} {
		if f != nil {
			f.Close()
		}
	}
}

func appendLog(f *os.File, rec any) error {
	b := append(mustJSON(rec), '\n')
	_, err := f.Write(b)
	return err
}

// loop is the release's training loop.
func (r *run) loop(ctx context.Context) (*Result, error) {
	c, st, n := &r.cfg, &r.st, r.n
	res := &Result{WeightsPath: WeightsPath(r.o.OutputDir, r.o.CheckpointName), StatePath: StatePath(r.o.OutputDir, r.o.CheckpointName)}
	if st.T >= c.NumIterations {
		r.logf("Already at t = %d of %d iterations; nothing to do", st.T, c.NumIterations)
		res.State = *st
		return res, nil
	}
	bpe := (r.trainDS.Len() + c.BatchSize - 1) / c.BatchSize
	loader := data.NewLoaderAt(r.trainDS, c.BatchSize, c.Seed, r.o.Workers, st.Batches)
	defer loader.Close()
	r.prog = newProgress(r.o.Progress, r.o.Terminal, c.PrintEvery, c.NumIterations)
	defer r.prog.done()
	badInARow, startT := 0, st.T
	for st.T < c.NumIterations {
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
		if st.Batches%bpe == 0 {
			st.Epoch = st.Batches/bpe + 1
			r.logf("Starting epoch %d", st.Epoch)
		}
		began := time.Now()
		b, err := loader.Next()
		st.Batches++
		if err != nil {
			st.BadBatches++
			badInARow++
			r.logf("warning: batch %d skipped: %v", st.Batches-1, err)
			if badInARow >= maxBadBatches {
				return nil, &DataError{fmt.Errorf("%d batches in a row failed to load; the last: %w", badInARow, err)}
			}
			continue
		}
		badInARow = 0
		if st.T == c.EvalModeAfter {
			r.logf("Switching the generator to eval mode (t = %d), with a fresh optimiser as the release does", st.T)
			st.EvalMode = true
			n.tr.OptG = nn.NewAdam(n.g.ParamVars(), c.LearningRate)
		}
		st.T++
		in := &StepInput{Batch: &b.Batch, Images: b.Images, Boxes: b.Boxes, Masks: b.Masks, Seed: NoiseSeed(c.Seed, st.T)}
		if n.g.Config.MaskSize == 0 {
			in.Masks = nil
		}
		out, err := n.tr.Step(in, !st.EvalMode)
		if err != nil {
			return nil, fmt.Errorf("t = %d: %w", st.T, err)
		}
		st.Elapsed += time.Since(began).Seconds()
		rec := Record{T: st.T, Epoch: st.Epoch, Elapsed: st.Elapsed, Time: time.Now().UTC().Format(time.RFC3339)}
		switch {
		case out.Skipped:
			st.Skipped++
			rec.Skipped = true
			r.logf("warning: t = %d: total loss %v is not finite; not backpropagating (%d skipped so far)",
				st.T, out.Losses["total_loss"], st.Skipped)
			if err := r.record(rec); err != nil {
				return nil, err
			}
			r.prog.step(st.T, nil)
		default:
			if st.T%c.PrintEvery == 0 {
				rec.Losses = out.Losses
				if err := r.record(rec); err != nil {
					return nil, err
				}
			}
			r.prog.step(st.T, out.Losses)
		}
		if st.T%c.CheckpointEvery == 0 && st.T < c.NumIterations {
			if err := r.checkpoint(true); err != nil {
				return nil, err
			}
		}
		if r.o.AfterStep != nil {
			r.o.AfterStep(st.T)
		}
	}
	if res.Interrupted && st.T == startT {
		r.logf("Interrupted before the first iteration; nothing written")
		res.State = *st
		return res, nil
	}
	if r.lastCk != st.T {
		if err := r.checkpoint(!res.Interrupted); err != nil {
			return nil, err
		}
	}
	r.prog.done()
	if res.Interrupted {
		r.logf("Interrupted at t = %d: checkpoint written to %s; continue with --restore_from_checkpoint", st.T, res.WeightsPath)
	} else {
		r.logf("Done: t = %d, %d step(s) skipped, %d batch(es) failed to load; model in %s", st.T, st.Skipped, st.BadBatches, res.WeightsPath)
	}
	r.reportSkips()
	res.State = *st
	return res, nil
}

// record appends a logged iteration to the history and losses.jsonl.
func (r *run) record(rec Record) error {
	r.st.History = append(r.st.History, rec)
	return appendLog(r.lossLog, rec)
}

// checkpoint validates (when full and there is a validation set), writes
// the state and the weights, then the sample sheet and the loss plot.
func (r *run) checkpoint(full bool) error {
	r.prog.pause()
	t := r.st.T
	if full && r.valDS != nil && r.cfg.NumValSamples > 0 {
		v, err := r.validate()
		if err != nil {
			return err
		}
		r.st.Val = append(r.st.Val, *v)
		if err := appendLog(r.valLog, v); err != nil {
			return err
		}
		r.logf("Validation at t = %d on %d images: box IoU %.4f, %s", t, v.Images, v.BoxIoU, formatLosses(v.Losses))
	}
	statePath := StatePath(r.o.OutputDir, r.o.CheckpointName)
	md := r.n.stateMetadata(r.args, &r.st)
	if err := atomicfile.Write(statePath, func(w io.Writer) error {
		return weights.WriteSafetensors(w, md, r.n.stateTensors())
	}); err != nil {
		return err
	}
	wpath := WeightsPath(r.o.OutputDir, r.o.CheckpointName)
	if err := r.n.weightsCheckpoint(r.args).Save(wpath); err != nil {
		return err
	}
	r.lastCk = t
	r.logf("Checkpoint at t = %d written to %s", t, wpath)
	if full && r.sample != nil {
		path := filepath.Join(r.o.OutputDir, "samples", fmt.Sprintf("%08d.png", t))
		if err := r.writeSamples(path); err != nil {
			r.logf("warning: sample sheet: %v", err)
		}
	}
	if err := writeLossPlot(filepath.Join(r.o.OutputDir, "losses.png"), r.st.History, r.st.Val); err != nil {
		r.logf("warning: loss plot: %v", err)
	}
	return nil
}

func formatLosses(m map[string]float64) string {
	var s string
	for i, n := range orderedNames(m) {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %.4f", n, m[n])
	}
	return s
}
