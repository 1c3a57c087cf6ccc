package ui

// History is the app's one undo stack: every edit, whatever control made
// it, records the session before it, so undo never mixes the browser's
// own text-field history with the app's.
type History struct {
	past, future []entry
}

type entry struct {
	s    Session
	kind string  // edits of one kind in a row merge (typing in one field)
	at   float64 // ms
}

// Limits of the history: its length, and the pause that ends a run of
// typing (a new undo step).
const (
	maxHistory  = 200
	mergeMillis = 1000
	noMergeKind = ""
)

// Record notes before, the session as it was before an edit of kind at
// time now. An edit of the kind of the last one, within mergeMillis of it,
// extends that step instead (kind "" never merges).
func (h *History) Record(before Session, kind string, now float64) {
	h.future = nil
	if n := len(h.past); n > 0 && kind != noMergeKind && h.past[n-1].kind == kind && now-h.past[n-1].at < mergeMillis {
		h.past[n-1].at = now
		return
	}
	h.past = append(h.past, entry{s: before.Clone(), kind: kind, at: now})
	if len(h.past) > maxHistory {
		h.past = h.past[1:]
	}
}

// Undo returns the session before the last step, given the current one.
func (h *History) Undo(cur Session) (Session, bool) { return step(&h.past, &h.future, cur) }

// Redo steps forward again after an Undo.
func (h *History) Redo(cur Session) (Session, bool) { return step(&h.future, &h.past, cur) }

// step takes the last session off from and puts cur on to, so that the
// opposite step comes back to it; without a session in from it keeps cur.
func step(from, to *[]entry, cur Session) (Session, bool) {
	if len(*from) == 0 {
		return cur, false
	}
	e := (*from)[len(*from)-1]
	*from = (*from)[:len(*from)-1]
	*to = append(*to, entry{s: cur.Clone(), kind: noMergeKind})
	return e.s.Clone(), true
}

// CanUndo and CanRedo enable the buttons.
func (h *History) CanUndo() bool { return len(h.past) > 0 }
func (h *History) CanRedo() bool { return len(h.future) > 0 }
