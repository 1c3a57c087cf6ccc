//go:build js && wasm

package ui

import (
	"strings"
	"syscall/js"
	"testing"
)

// TestGuardShowsPanic checks a panic in a page action is told to the user
// in the status line, and that the program goes on.
func TestGuardShowsPanic(t *testing.T) {
	status := js.Global().Get("Object").New()
	find := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if args[0].String() == IDStatus {
			return status
		}
		return js.Null()
	})
	defer find.Release()
	fake := js.Global().Get("Object").New()
	fake.Set("getElementById", find)
	saved := document
	document = fake
	defer func() { document = saved }()

	guard(func() {
		var counts map[string]int
		counts["sheep"]++ // a nil-map write: a runtime panic
	})
	msg := status.Get("textContent").String()
	if !strings.Contains(msg, "Something went wrong") || strings.Contains(msg, "runtime") || strings.Contains(msg, "nil map") {
		t.Errorf("status %q: want words for the user, without Go's message", msg)
	}
	ran := false
	guard(func() { ran = true })
	if !ran {
		t.Error("guard did not run its function")
	}
}
