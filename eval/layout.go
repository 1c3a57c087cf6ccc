package eval

// LayoutStats say where the predicted boxes of the real objects go.
type LayoutStats struct {
	// BoxesOutside counts boxes reaching more than outsideTol of the
	// image side past the frame; MaxOverflow is the largest reach.
	BoxesOutside int     `json:"boxes_outside"`
	MaxOverflow  float64 `json:"max_overflow"`
	// SameCategoryPairs are the pairs of objects of one category in one
	// scene ("flower" and "flower#2"); Merged* count those whose boxes
	// overlap with IoU above mergedIoU, predicted and real; PairIoU* are
	// their mean IoUs.
	SameCategoryPairs int     `json:"same_category_pairs"`
	MergedPred        int     `json:"merged_pairs_pred"`
	MergedTrue        int     `json:"merged_pairs_true"`
	PairIoUPred       float64 `json:"pair_iou_pred"`
	PairIoUTrue       float64 `json:"pair_iou_true"`
}

const (
	outsideTol = 0.01
	mergedIoU  = 0.5
)

type layoutAccum struct {
	LayoutStats
	iouPred, iouTrue float64
}

// add takes one scene's predicted and true boxes and its world category
// ids (0, __image__, left out).
func (a *layoutAccum) add(pred, truth [][4]float32, cats []int) {
	for j, b := range pred {
		if cats[j] == 0 {
			continue
		}
		over := max(-b[0], -b[1], b[2]-1, b[3]-1, 0)
		a.MaxOverflow = max(a.MaxOverflow, float64(over))
		if over > outsideTol {
			a.BoxesOutside++
		}
		for k := j + 1; k < len(pred); k++ {
			if cats[k] != cats[j] {
				continue
			}
			ip, it := boxIoU(b, pred[k]), boxIoU(truth[j], truth[k])
			a.SameCategoryPairs++
			a.iouPred += ip
			a.iouTrue += it
			if ip > mergedIoU {
				a.MergedPred++
			}
			if it > mergedIoU {
				a.MergedTrue++
			}
		}
	}
}

func (a *layoutAccum) stats() LayoutStats {
	s := a.LayoutStats
	if n := float64(s.SameCategoryPairs); n > 0 {
		s.PairIoUPred, s.PairIoUTrue = a.iouPred/n, a.iouTrue/n
	}
	return s
}
