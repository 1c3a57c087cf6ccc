//go:build unix

package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"
)

// TestSIGTERM signals this test process; run has caught SIGTERM by the
// time it prints its serving line, so the process survives.
func TestSIGTERM(t *testing.T) {
	s := start(t, context.Background(), "--addr", "127.0.0.1:0", "--dir", appDir(t))
	if code, _ := getBody(t, s.url); code != http.StatusOK {
		t.Fatalf("GET /: %d", code)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t); code != exitOK {
		t.Errorf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, s.stderr)
	}
}
