package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// State is the counters and history of a run: with the weights and the
// optimisers' moments, all a resumed run needs.
type State struct {
	// T is the release's iteration counter: the number of batches trained
	// on, skipped steps included.
	T int `json:"t"`
	// Epoch is the release's epoch counter: 1 during the first pass over
	// the data.
	Epoch int `json:"epoch"`
	// Batches is the number of batches drawn from the loader; it differs
	// from T only by batches that failed to load.
	Batches int `json:"batches"`
	// EvalMode is set once the generator has switched to eval mode
	// (Config.EvalModeAfter).
	EvalMode bool `json:"eval_mode"`
	// Skipped counts steps with a non-finite loss; BadBatches batches that
	// failed to load.
	Skipped    int `json:"skipped"`
	BadBatches int `json:"bad_batches"`
	// Elapsed is the training time of all sessions so far, in seconds.
	Elapsed float64 `json:"elapsed_s"`
	// History holds every logged iteration, Val every validation.
	History []Record    `json:"history"`
	Val     []ValRecord `json:"val"`
}

// Record is one logged iteration: a line of losses.jsonl.
type Record struct {
	T       int
	Epoch   int
	Skipped bool               // a non-finite step; Losses is then empty
	Losses  map[string]float64 // the release's names, unweighted
	Elapsed float64            // training time so far, seconds
	Time    string             // wall-clock time, RFC 3339
}

// lossOrder is the order losses are written and shown in: the generator's
// total, its terms, then the discriminators'. Others follow sorted.
var lossOrder = []string{"total_loss", "L1_pixel_loss", "bbox_pred", "mask_loss", "ac_loss",
	"g_gan_obj_loss", "g_gan_img_loss", "d_obj_gan_loss", "d_ac_loss_real", "d_ac_loss_fake",
	"d_obj_total", "d_img_gan_loss"}

// orderedNames lists the keys of m in lossOrder, then the rest sorted.
func orderedNames(m map[string]float64) []string {
	var out []string
	for _, n := range lossOrder {
		if _, ok := m[n]; ok {
			out = append(out, n)
		}
	}
	var rest []string
	for n := range m {
		if !slices.Contains(lossOrder, n) {
			rest = append(rest, n)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// MarshalJSON writes a flat object: t, epoch, the losses, elapsed_s, time.
func (r Record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"t":%d,"epoch":%d`, r.T, r.Epoch)
	if r.Skipped {
		b.WriteString(`,"skipped":true`)
	}
	for _, n := range orderedNames(r.Losses) {
		v := r.Losses[n]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue // JSON has no NaN; a skipped step says so
		}
		k, _ := json.Marshal(n)
		fmt.Fprintf(&b, ",%s:%s", k, strconv.FormatFloat(v, 'g', -1, 64))
	}
	fmt.Fprintf(&b, `,"elapsed_s":%s`, strconv.FormatFloat(r.Elapsed, 'f', 3, 64))
	if r.Time != "" {
		t, _ := json.Marshal(r.Time)
		fmt.Fprintf(&b, `,"time":%s`, t)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes: every number that is not
// a counter is a loss.
func (r *Record) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*r = Record{Losses: map[string]float64{}}
	for k, v := range m {
		var err error
		switch k {
		case "t":
			err = json.Unmarshal(v, &r.T)
		case "epoch":
			err = json.Unmarshal(v, &r.Epoch)
		case "skipped":
			err = json.Unmarshal(v, &r.Skipped)
		case "elapsed_s":
			err = json.Unmarshal(v, &r.Elapsed)
		case "time":
			err = json.Unmarshal(v, &r.Time)
		default:
			var f float64
			err = json.Unmarshal(v, &f)
			r.Losses[k] = f
		}
		if err != nil {
			return fmt.Errorf("loss record %q: %v", k, err)
		}
	}
	return nil
}

// ValRecord is one validation: a line of val.jsonl.
type ValRecord struct {
	T       int                `json:"t"`
	Images  int                `json:"images"`
	BoxIoU  float64            `json:"box_iou"` // mean over objects, __image__ left out
	Losses  map[string]float64 `json:"losses"`  // means over batches, unweighted
	Elapsed float64            `json:"elapsed_s"`
	Time    string             `json:"time"`
}
