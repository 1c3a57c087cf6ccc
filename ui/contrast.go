package ui

import "math"

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(r, g, b uint8) float64 {
	lin := func(c uint8) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrastWithWhite is WCAG's contrast ratio of white text on the colour.
func contrastWithWhite(r, g, b uint8) float64 { return 1.05 / (luminance(r, g, b) + 0.05) }

// contrastWithBlack is the ratio of black text on the colour.
func contrastWithBlack(r, g, b uint8) float64 { return (luminance(r, g, b) + 0.05) / 0.05 }
