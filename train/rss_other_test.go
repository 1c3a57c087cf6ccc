//go:build !linux

package train

// peakRSSKiB is not measured off Linux (ru_maxrss has other units there).
func peakRSSKiB() (int64, bool) { return 0, false }
