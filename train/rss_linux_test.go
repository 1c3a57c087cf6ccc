package train

import "syscall"

// peakRSSKiB is the process's peak resident set (ru_maxrss, KiB on Linux).
func peakRSSKiB() (int64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return ru.Maxrss, true
}
