package ui

// innermostBox returns the index of the smallest box that holds (x, y),
// or -1: a box inside another is grabbed before the one around it.
func innermostBox(boxes [][4]float32, x, y float32) int {
	best, bestArea := -1, float32(2)
	for i, b := range boxes {
		if x < b[0] || x > b[2] || y < b[1] || y > b[3] {
			continue
		}
		if a := (b[2] - b[0]) * (b[3] - b[1]); a < bestArea {
			best, bestArea = i, a
		}
	}
	return best
}
