package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// module builds a small module as Go's linker lays one out: a function
// import, a defined memory of pages pages, exported as "mem".
func module(pages int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, body []byte) {
		b = append(b, id)
		b = appendUleb(b, uint64(len(body)))
		b = append(b, body...)
	}
	sec(1, []byte{1, 0x60, 0, 0})                                          // type: func() -> ()
	sec(2, append(appendName(appendName([]byte{1}, "go"), "debug"), 0, 0)) // import go.debug, func type 0
	sec(5, appendUleb([]byte{1, 0}, uint64(pages)))                        // one memory
	sec(7, append(appendName([]byte{1}, "mem"), 2, 0))                     // export memory 0 as mem
	return b
}

func TestShared(t *testing.T) {
	out, err := shared(module(300))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("\x05sg2im\x03mem\x02\x03\xac\x02\x80\x80\x04") // 300 pages, maximum 65536
	if !bytes.Contains(out, want) {
		t.Errorf("no shared memory import sg2im.mem of 300 to 65536 pages in % x", out)
	}
	if bytes.Contains(out, []byte{5, 4, 1, 0, 0xac, 2}) {
		t.Errorf("the memory section is still there: % x", out)
	}
	custom := append(appendName(nil, "sg2im.mem"), binary.LittleEndian.AppendUint32(nil, 300)...)
	if !bytes.HasSuffix(out, custom) {
		t.Errorf("no custom section sg2im.mem holding 300 at the end: % x", out)
	}
	if _, err := shared(out); err == nil {
		t.Error("a rewritten module was rewritten again")
	}
	for _, bad := range [][]byte{nil, []byte("\x7fELF....."), module(300)[:20]} {
		if _, err := shared(bad); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
	// Where Node is installed, the result must compile and take a shared
	// memory.
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the rewritten module is not compiled")
	}
	path := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	js := `const m = new WebAssembly.Module(require("fs").readFileSync(process.argv[1]));
const mem = new WebAssembly.Memory({initial: 300, maximum: 65536, shared: true});
const i = new WebAssembly.Instance(m, {go: {debug() {}}, sg2im: {mem}});
if (i.exports.mem !== mem) throw new Error("mem is not the imported memory");`
	if b, err := exec.Command(node, "-e", js, path).CombinedOutput(); err != nil {
		t.Errorf("node: %v\n%s", err, b)
	}
}
