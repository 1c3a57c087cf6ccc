package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/sg2im-go/sg2im/data"
	"github.com/sg2im-go/sg2im/data/world"
	"github.com/sg2im-go/sg2im/nn"
)

// featureStats accumulates the mean and covariance of feature rows: the
// count, the sum and the sum of outer products (in float64, so that
// thousands of rows lose nothing).
type featureStats struct {
	n   int
	sum []float64
	xtx *mat.SymDense
}

func newFeatureStats(dim int) *featureStats {
	return &featureStats{sum: make([]float64, dim), xtx: mat.NewSymDense(dim, nil)}
}

// add takes the rows of feats (O, F).
func (s *featureStats) add(feats *nn.Tensor) {
	O, F := feats.Shape[0], feats.Shape[1]
	if O == 0 {
		return
	}
	x := mat.NewDense(O, F, nil)
	for r := 0; r < O; r++ {
		for c := 0; c < F; c++ {
			v := float64(feats.Data[r*F+c])
			x.Set(r, c, v)
			s.sum[c] += v
		}
	}
	s.xtx.SymRankK(s.xtx, 1, x.T())
	s.n += O
}

// moments are the mean and the (unbiased) covariance.
func (s *featureStats) moments() ([]float64, *mat.SymDense) {
	F := len(s.sum)
	mean := make([]float64, F)
	for i, v := range s.sum {
		mean[i] = v / float64(max(s.n, 1))
	}
	cov := mat.NewSymDense(F, nil)
	if s.n < 2 {
		return mean, cov
	}
	for i := 0; i < F; i++ {
		for j := i; j < F; j++ {
			cov.SetSym(i, j, (s.xtx.At(i, j)-float64(s.n)*mean[i]*mean[j])/float64(s.n-1))
		}
	}
	return mean, cov
}

// frechetDistance is the Fréchet distance between the Gaussians fitted to
// two feature sets (Heusel et al., 2017):
// |m1 - m2|^2 + Tr(C1) + Tr(C2) - 2 Tr((C1 C2)^(1/2)), the last trace
// taken as Tr((C1^(1/2) C2 C1^(1/2))^(1/2)), a symmetric product whose
// eigenvalues are those of C1 C2.
func frechetDistance(a, b *featureStats) (float64, error) {
	m1, c1 := a.moments()
	m2, c2 := b.moments()
	var d float64
	for i := range m1 {
		d += (m1[i] - m2[i]) * (m1[i] - m2[i])
	}
	d += mat.Trace(c1) + mat.Trace(c2)
	root1, err := sqrtSym(c1)
	if err != nil {
		return 0, err
	}
	var prod, inner mat.Dense
	prod.Mul(root1, c2)
	inner.Mul(&prod, root1)
	F := len(m1)
	sym := mat.NewSymDense(F, nil)
	for i := 0; i < F; i++ {
		for j := i; j < F; j++ {
			sym.SetSym(i, j, (inner.At(i, j)+inner.At(j, i))/2)
		}
	}
	vals, err := eigenvalues(sym)
	if err != nil {
		return 0, err
	}
	for _, v := range vals {
		d -= 2 * math.Sqrt(max(v, 0))
	}
	return max(d, 0), nil
}

// sqrtSym is the principal square root of a symmetric positive
// semi-definite matrix (negative eigenvalues from rounding count as 0).
func sqrtSym(c *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(c, true) {
		return nil, fmt.Errorf("eval: FID: the feature covariance has no eigendecomposition")
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	vals := eig.Values(nil)
	F := len(vals)
	scaled := mat.NewDense(F, F, nil)
	for j, v := range vals {
		r := math.Sqrt(max(v, 0))
		for i := 0; i < F; i++ {
			scaled.Set(i, j, vecs.At(i, j)*r)
		}
	}
	var root mat.Dense
	root.Mul(scaled, vecs.T())
	return &root, nil
}

func eigenvalues(c *mat.SymDense) ([]float64, error) {
	var eig mat.EigenSym
	if !eig.Factorize(c, false) {
		return nil, fmt.Errorf("eval: FID: the feature covariance product has no eigendecomposition")
	}
	return eig.Values(nil), nil
}

// fidCells is the side of the grid the FID averages the classifier's last
// stage over: its penultimate layer (64 channels of 4x4 for the shipped
// classifier) in 2x2 cells, 256 features, which keep where in the crop
// things are and few enough that a few thousand crops estimate their
// covariance (1024 would need many more, and eigendecompositions 64 times
// the work).
const fidCells = 2

// fidDim is the width of the FID's features.
func (c *Classifier) fidDim() int {
	cells := c.fidGrid()
	return c.Config.Channels[len(c.Config.Channels)-1] * cells * cells
}

// fidGrid is the cells of a side: fidCells when it divides the last
// stage's side, else 1 (a global average).
func (c *Classifier) fidGrid() int {
	if side := c.Config.CropSize >> len(c.Config.Channels); side%fidCells == 0 {
		return fidCells
	}
	return 1
}

// fidFeatures averages penultimate features (O, C*s*s) over the cells of
// fidGrid: (O, C*cells*cells).
func (c *Classifier) fidFeatures(f *nn.Tensor) *nn.Tensor {
	O := f.Shape[0]
	C := c.Config.Channels[len(c.Config.Channels)-1]
	side := c.Config.CropSize >> len(c.Config.Channels)
	cells := c.fidGrid()
	k := side / cells
	out := nn.New(O, C*cells*cells)
	for o := 0; o < O; o++ {
		src := f.Data[o*C*side*side : (o+1)*C*side*side]
		dst := out.Data[o*C*cells*cells : (o+1)*C*cells*cells]
		for ch := 0; ch < C; ch++ {
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					dst[(ch*cells+y/k)*cells+x/k] += src[(ch*side+y)*side+x] / float32(k*k)
				}
			}
		}
	}
	return out
}

// ObjectFID is the object-level FID, in the spirit of SceneFID (Sylvain et
// al., 2020): the Fréchet distance between Gaussians fitted to features of
// object crops (fidFeatures: the classifier's penultimate layer averaged
// over 2x2 cells). The reference is the real crops (true boxes)
// of another set of as many held-out scenes, disjoint from the evaluated
// ones; the floor is the evaluated scenes' own real crops against that
// reference, the figure of a perfect generator.
type ObjectFID struct {
	Features       int     `json:"features"`
	Crops          int     `json:"crops"`
	ReferenceCrops int     `json:"reference_crops"`
	TrueLayout     float64 `json:"fid_true_layout"`
	PredLayout     float64 `json:"fid_pred_layout"`
	RealFloor      float64 `json:"fid_real_floor"`
}

// MinFIDCrops is the fewest crops for a trustworthy object FID (the
// report says when there are fewer).
const MinFIDCrops = 2000

// objectFID measures the generated and real crops gathered by the batches
// against the real crops of held-out scenes [N, 2N) of the same seed.
func (a *accum) objectFID(opt Options, wopts world.Options) (*ObjectFID, error) {
	c := opt.Classifier
	ref, err := referenceFeatures(c, opt, wopts)
	if err != nil {
		return nil, err
	}
	r := &ObjectFID{Features: c.fidDim(), Crops: a.fidReal.n, ReferenceCrops: ref.n}
	for _, d := range []struct {
		dst *float64
		s   *featureStats
	}{{&r.TrueLayout, a.fidTrue}, {&r.PredLayout, a.fidPred}, {&r.RealFloor, a.fidReal}} {
		if *d.dst, err = frechetDistance(d.s, ref); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// referenceFeatures gathers the classifier features of the real objects
// (__image__ left out) of held-out scenes [N, 2N), at their true boxes.
func referenceFeatures(c *Classifier, opt Options, wopts world.Options) (*featureStats, error) {
	wopts.N = 2 * opt.N
	w, err := world.New(wopts)
	if err != nil {
		return nil, fmt.Errorf("eval: %v", err)
	}
	s := newFeatureStats(c.fidDim())
	rng := rand.New(rand.NewPCG(opt.Seed^tripleSalt, 0))
	for lo := opt.N; lo < 2*opt.N; lo += opt.BatchSize {
		hi := min(lo+opt.BatchSize, 2*opt.N)
		exs := make([]*data.Example, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ex, err := w.Example(i, rng)
			if err != nil {
				return nil, err
			}
			exs = append(exs, ex)
		}
		tb := data.Collate(exs, wopts.MaskSize)
		var objToImg []int
		var boxes []float32
		for k, id := range tb.Batch.Objs {
			if id != 0 { // not __image__
				objToImg = append(objToImg, tb.Batch.ObjToImg[k])
				boxes = append(boxes, tb.Boxes.Data[4*k:4*k+4]...)
			}
		}
		_, f := c.PredictFeatures(CropBoxes(tb.Images, nn.FromData(boxes, len(objToImg), 4), objToImg, c.Config.CropSize))
		s.add(c.fidFeatures(f))
	}
	return s, nil
}
