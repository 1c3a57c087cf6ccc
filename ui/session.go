package ui

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/sg2im-go/sg2im/model"
)

// Session is everything an edit can change: what undo restores, what the
// address shares and what Export JSON saves.
type Session struct {
	Graph model.SceneGraph
	Seed  uint64
	// Boxes and Pinned are nil, or one per object: a pinned object is drawn
	// in its box; the others where the model puts them.
	Boxes  [][4]float32
	Pinned []bool
	// Looks are the objects' own appearance seeds (models with appearance
	// vectors): an object without one takes the look the seed draws.
	Looks map[int]uint64
}

// Clone copies s deeply, so history entries never share slices.
func (s Session) Clone() Session {
	c := s
	c.Graph.Objects = slices.Clone(s.Graph.Objects)
	c.Graph.Relationships = slices.Clone(s.Graph.Relationships)
	c.Boxes = slices.Clone(s.Boxes)
	c.Pinned = slices.Clone(s.Pinned)
	c.Looks = maps.Clone(s.Looks)
	return c
}

// Equal says whether two sessions draw the same picture.
func (s Session) Equal(o Session) bool {
	return s.Seed == o.Seed && slices.Equal(s.Graph.Objects, o.Graph.Objects) &&
		slices.Equal(s.Graph.Relationships, o.Graph.Relationships) &&
		reflect.DeepEqual(s.pins(), o.pins()) && maps.Equal(s.Looks, o.Looks)
}

// NewLook gives object i a look of its own, drawn from seed.
func (s *Session) NewLook(i int, seed uint64) {
	if i < 0 || i >= len(s.Graph.Objects) {
		return
	}
	if s.Looks == nil {
		s.Looks = map[int]uint64{}
	}
	s.Looks[i] = seed
}

// SwapLooks follows objects i and j changing places.
func (s *Session) SwapLooks(i, j int) {
	li, iok := s.Looks[i]
	lj, jok := s.Looks[j]
	delete(s.Looks, i)
	delete(s.Looks, j)
	if iok {
		s.NewLook(j, li)
	}
	if jok {
		s.NewLook(i, lj)
	}
}

// RemoveLook follows object i's removal: the objects after it move up.
// Call it before the object is gone from the graph.
func (s *Session) RemoveLook(i int) {
	old := s.Looks
	s.Looks = nil
	for k, v := range old {
		switch {
		case k < i:
			s.NewLook(k, v)
		case k > i:
			s.NewLook(k-1, v)
		}
	}
}

// AppearanceSeeds returns the looks as a generate request takes them: nil
// without any, else one per object (nil for the seed's draw).
func (s Session) AppearanceSeeds() []*uint64 {
	var out []*uint64
	for i := range s.Graph.Objects {
		if v, ok := s.Looks[i]; ok {
			if out == nil {
				out = make([]*uint64, len(s.Graph.Objects))
			}
			out[i] = &v
		}
	}
	return out
}

// pins maps pinned object indices to their boxes.
func (s Session) pins() map[int][4]float32 {
	m := map[int][4]float32{}
	for i, p := range s.Pinned {
		if p && i < len(s.Boxes) && i < len(s.Graph.Objects) {
			m[i] = s.Boxes[i]
		}
	}
	return m
}

// PinnedCount counts the pinned boxes.
func (s Session) PinnedCount() int { return len(s.pins()) }

// Pin fixes object i's box at b.
func (s *Session) Pin(i int, b [4]float32) {
	if i < 0 || i >= len(s.Graph.Objects) {
		return
	}
	s.fit()
	s.Boxes[i], s.Pinned[i] = b, true
}

// fit sizes Boxes and Pinned to the objects, keeping the pins that fit.
func (s *Session) fit() {
	pins := s.pins()
	n := len(s.Graph.Objects)
	s.Boxes, s.Pinned = make([][4]float32, n), make([]bool, n)
	for i, b := range pins {
		if i < n {
			s.Boxes[i], s.Pinned[i] = b, true
		}
	}
}

// Unpin lets object i's box follow the model again; i < 0 unpins all.
func (s *Session) Unpin(i int) {
	if i < 0 {
		s.Boxes, s.Pinned = nil, nil
		return
	}
	if i < len(s.Pinned) && i < len(s.Boxes) {
		s.Pinned[i] = false
	}
	if s.PinnedCount() == 0 {
		s.Boxes, s.Pinned = nil, nil
	}
}

// KeepPins carries the pins and looks over after the objects changed from old (a
// scene retyped): a pin follows its object's name as the one-line syntax
// writes it (sheep, sheep#2), wherever the object now stands.
func (s *Session) KeepPins(old []string) {
	pins, looks := s.pins(), s.Looks
	s.Boxes, s.Pinned, s.Looks = nil, nil, nil
	if len(pins) == 0 && len(looks) == 0 {
		return
	}
	now := map[string]int{}
	for j, ref := range refsOf(s.Graph.Objects) {
		now[ref] = j
	}
	oldRefs := refsOf(old)
	at := func(i int) (int, bool) {
		if i >= len(oldRefs) {
			return 0, false
		}
		j, ok := now[oldRefs[i]]
		return j, ok
	}
	for i, b := range pins {
		if j, ok := at(i); ok {
			s.Pin(j, b)
		}
	}
	for i, v := range looks {
		if j, ok := at(i); ok {
			s.NewLook(j, v)
		}
	}
}

// Request returns the boxes and pinned flags for a generate request.
func (s Session) Request() ([][4]float32, []bool) {
	s = s.Clone()
	s.fit()
	if !slices.Contains(s.Pinned, true) {
		return nil, nil
	}
	return s.Boxes, s.Pinned
}

// maxFragment bounds an address fragment read back (a pasted link).
const maxFragment = 1 << 16

// Fragment writes s for the address after '#': the scene in the one-line
// syntax when that reads back exactly (else as JSON), the seed, the
// pinned boxes and the objects' own looks, e.g.
// scene=sheep+inside+grass;sky+above+grass&seed=3&pin=0:0.1,0.5,0.4,0.9&look=1:17
func (s Session) Fragment(preds []string) string {
	var parts []string
	text := model.FormatText(s.Graph)
	if g, err := model.ParseText(text, preds); err == nil && slices.Equal(g.Objects, s.Graph.Objects) &&
		slices.Equal(g.Relationships, s.Graph.Relationships) {
		parts = append(parts, "scene="+escape(text))
	} else {
		b, _ := json.Marshal(s.Graph)
		parts = append(parts, "graph="+escape(string(b)))
	}
	parts = append(parts, "seed="+strconv.FormatUint(s.Seed, 10))
	var pins []string
	for i, p := range s.Pinned {
		if p && i < len(s.Boxes) {
			b := s.Boxes[i]
			pins = append(pins, fmt.Sprintf("%d:%s,%s,%s,%s", i, num(b[0]), num(b[1]), num(b[2]), num(b[3])))
		}
	}
	if len(pins) > 0 {
		parts = append(parts, "pin="+strings.Join(pins, ";"))
	}
	var looks []string
	for i, v := range s.AppearanceSeeds() {
		if v != nil {
			looks = append(looks, fmt.Sprintf("%d:%d", i, *v))
		}
	}
	if len(looks) > 0 {
		parts = append(parts, "look="+strings.Join(looks, ";"))
	}
	return strings.Join(parts, "&")
}

func num(v float32) string { return strconv.FormatFloat(float64(v), 'f', -1, 32) }

// escape is QueryEscape keeping the separators that read well in a link.
func escape(s string) string {
	r := strings.NewReplacer("%3B", ";", "%2C", ",", "%3A", ":", "%28", "(", "%29", ")")
	return r.Replace(url.QueryEscape(s))
}

// ParseFragment reads what Fragment wrote (a leading '#' allowed). ok is
// false when the fragment holds no scene at all.
func ParseFragment(frag string, preds []string) (s Session, ok bool, err error) {
	frag = strings.TrimPrefix(frag, "#")
	if frag == "" {
		return s, false, nil
	}
	if len(frag) > maxFragment {
		return s, false, fmt.Errorf("the address is %d characters long, more than a scene link holds (%d)", len(frag), maxFragment)
	}
	vals := map[string]string{}
	for _, kv := range strings.Split(frag, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if v, err := url.QueryUnescape(v); err == nil {
			vals[k] = v
		} else {
			return s, false, fmt.Errorf("the address's %q part is garbled: %v", k, err)
		}
	}
	switch {
	case vals["scene"] != "":
		if s.Graph, err = model.ParseText(vals["scene"], preds); err != nil {
			return s, false, fmt.Errorf("the scene in the address: %v", err)
		}
	case vals["graph"] != "":
		gs, err := model.ParseGraphs([]byte(vals["graph"]))
		if err != nil {
			return s, false, fmt.Errorf("the scene in the address: %v", err)
		}
		s.Graph = gs[0]
	default:
		return s, false, nil
	}
	if v, ok := vals["seed"]; ok {
		if s.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return s, false, fmt.Errorf("the seed in the address, %q, is not a whole number ≥ 0", v)
		}
	}
	if v := vals["pin"]; v != "" {
		if err := s.parsePins(v); err != nil {
			return s, false, fmt.Errorf("the pinned boxes in the address: %v", err)
		}
	}
	if v := vals["look"]; v != "" {
		if err := s.parseLooks(v); err != nil {
			return s, false, fmt.Errorf("the objects' looks in the address: %v", err)
		}
	}
	return s, true, nil
}

// parsePins reads "i:x0,y0,x1,y1;j:...".
func (s *Session) parsePins(v string) error {
	for _, p := range strings.Split(v, ";") {
		is, coords, ok := strings.Cut(p, ":")
		i, err := strconv.Atoi(is)
		if !ok || err != nil || i < 0 || i >= len(s.Graph.Objects) {
			return fmt.Errorf("%q does not start with an object number (0 to %d) and ':'", p, len(s.Graph.Objects)-1)
		}
		f := strings.Split(coords, ",")
		if len(f) != 4 {
			return fmt.Errorf("%q: want four numbers x0,y0,x1,y1", p)
		}
		var b [4]float32
		for k, x := range f {
			v, err := strconv.ParseFloat(x, 32)
			if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
				return fmt.Errorf("%q: %q is not a number from 0 to 1", p, x)
			}
			b[k] = float32(v)
		}
		if err := checkBox(b); err != nil {
			return fmt.Errorf("%q: %v", p, err)
		}
		s.Pin(i, b)
	}
	return nil
}

// parseLooks reads "i:seed;j:seed".
func (s *Session) parseLooks(v string) error {
	for _, p := range strings.Split(v, ";") {
		is, seed, ok := strings.Cut(p, ":")
		i, err := strconv.Atoi(is)
		if !ok || err != nil || i < 0 || i >= len(s.Graph.Objects) {
			return fmt.Errorf("%q does not start with an object number (0 to %d) and ':'", p, len(s.Graph.Objects)-1)
		}
		n, err := strconv.ParseUint(seed, 10, 64)
		if err != nil {
			return fmt.Errorf("%q: %q is not a whole number ≥ 0", p, seed)
		}
		s.NewLook(i, n)
	}
	return nil
}

func checkBox(b [4]float32) error {
	for _, v := range b {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("coordinates must be from 0 to 1")
		}
	}
	if b[2] <= b[0] || b[3] <= b[1] {
		return fmt.Errorf("the box ends before it starts (x1 must exceed x0, y1 exceed y0)")
	}
	return nil
}

// MarshalSession writes s as Export JSON saves it: the release's scene
// graph with the seed, the pinned boxes (null where the model places the
// object) and the objects' own looks (model.Scene, which `sg2im generate`
// reads too).
func MarshalSession(s Session) []byte {
	f := model.Scene{SceneGraph: s.Graph, Seed: &s.Seed, AppearanceSeeds: s.AppearanceSeeds()}
	if f.Relationships == nil {
		f.Relationships = []model.Relationship{}
	}
	if s.PinnedCount() > 0 {
		f.Boxes = make([]*[4]float32, len(s.Graph.Objects))
		for i, b := range s.pins() {
			f.Boxes[i] = &b
		}
	}
	b, _ := json.MarshalIndent(f, "", "  ")
	return b
}

// ParseSession reads a scene file: Export JSON's format, or any file of
// scene graphs (the first graph is taken; n says how many there were).
// hasSeed says whether the file set the seed.
func ParseSession(data []byte) (s Session, n int, hasSeed bool, err error) {
	scenes, err := model.ParseScenes(data)
	if err != nil {
		return s, 0, false, err
	}
	f := scenes[0]
	s.Graph = f.SceneGraph
	if s.Graph.Relationships == nil {
		s.Graph.Relationships = []model.Relationship{}
	}
	if f.Seed != nil {
		s.Seed, hasSeed = *f.Seed, true
	}
	for i, b := range f.Boxes {
		if b != nil {
			s.Pin(i, *b)
		}
	}
	for i, v := range f.AppearanceSeeds {
		if v != nil {
			s.NewLook(i, *v)
		}
	}
	return s, len(scenes), hasSeed, nil
}
