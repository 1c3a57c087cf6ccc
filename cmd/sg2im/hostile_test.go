//go:build linux

package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sg2im-go/sg2im/weights"
)

// The hostile files of issue 17, each made here, and what the CLI must
// answer: the exit code, words of the message, and a peak resident set
// (VmHWM of the process) under the 600 MB.
const maxHostileRSS = 600 << 20

// pkl builds protocol-2 pickles opcode by opcode.
type pkl struct{ bytes.Buffer }

func newPickle() *pkl { p := &pkl{}; p.Write([]byte{0x80, 2}); return p }

func (p *pkl) ops(b ...byte) *pkl { p.Write(b); return p }

func (p *pkl) str(s string) *pkl {
	p.WriteByte('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pkl) int(n int32) *pkl {
	p.WriteByte('J')
	binary.Write(p, binary.LittleEndian, n)
	return p
}

func (p *pkl) long(n int64) *pkl {
	p.ops(0x8a, 8)
	binary.Write(p, binary.LittleEndian, n)
	return p
}

func (p *pkl) global(module, name string) *pkl {
	p.WriteString("c" + module + "\n" + name + "\n")
	return p
}

func (p *pkl) end() []byte { return p.ops('.').Bytes() }

// legacyFile is PyTorch's legacy layout around a main pickle: magic
// number, protocol, system info, main, storage keys, then the storages.
func legacyFile(main []byte, keys []string, storages []byte) []byte {
	var b bytes.Buffer
	b.Write(newPickle().ops(0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).end())
	b.Write(newPickle().ops('M', 0xe9, 0x03).end())
	b.Write(newPickle().ops('}').end())
	b.Write(main)
	k := newPickle().ops(']', '(')
	for _, key := range keys {
		k.str(key)
	}
	b.Write(k.ops('e').end())
	b.Write(storages)
	return b.Bytes()
}

// tensorCheckpoint is a main pickle {"model_kwargs": {}, "model_state":
// {"w": tensor}} whose tensor views FloatStorage "s" of numel values at
// offset with size 1; legacy adds the view slot of the persistent id.
func tensorCheckpoint(numel int64, offset int32, legacy bool) []byte {
	p := newPickle().ops('}', '(').str("model_kwargs").ops('}').str("model_state").ops('}', '(')
	p.str("w").global("torch._utils", "_rebuild_tensor_v2").ops('(')
	p.ops('(').str("storage").global("torch", "FloatStorage").str("s").str("cpu").long(numel)
	if legacy {
		p.ops('N')
	}
	p.ops('t', 'Q').int(offset).ops('(').int(1).ops('t', '(').int(1).ops('t', 0x89, '}', 't', 'R')
	return p.ops('u', 'u').end()
}

// hostileFiles writes each hostile file into dir and returns the command
// line that reads it, with the expected exit code and message.
func hostileFiles(t *testing.T, dir string) []struct {
	name string
	args []string
	code int
	want string
} {
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	graphs := write("g.json", []byte(`{"objects": ["sky", "grass"], "relationships": [[0, "above", 1]]}`))
	out := filepath.Join(dir, "out")

	// A 2 MB file: a 1 MiB string named 500,000 times in args.
	big := newPickle().ops('}', '(').str("model_kwargs").ops('}').str("args")
	big.str(strings.Repeat("x", 1<<20)).ops('q', 1, '0', ']', '(')
	big.Write(bytes.Repeat([]byte{'h', 1}, 500_000))
	repeated := legacyFile(big.ops('e', 'u').end(), nil, nil)

	// A deflated storage of 256 MiB of zeros, its last value wanted.
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	w.Write(tensorCheckpoint(1<<26, 1<<26-1, false))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/s", Method: zip.Deflate})
	zeros := make([]byte, 1<<20)
	for range 256 {
		w.Write(zeros)
	}
	zw.Close()

	// Safetensors header of 2M empty tensors.
	h := []byte(`{`)
	for i := range 2_000_000 {
		h = append(strconv.AppendInt(append(h, '"'), int64(i), 16), `":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`...)
	}
	h = append(h, `"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`...)
	st := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))

	// A 200 MB scene-graph file (sparse: a list, then zeros).
	sg := write("huge.json", []byte(`[{"objects": ["sky"]}, `))
	if err := os.Truncate(sg, 200<<20); err != nil {
		t.Fatal(err)
	}

	return []struct {
		name string
		args []string
		code int
		want string
	}{
		{"legacy .pt, 1 MiB string referenced 500,000 times", []string{"inspect", write("repeated.pt", repeated)}, exitModel,
			"converts to more than 16 MiB of JSON"},
		{"zip .pt, 256 MiB deflate bomb", []string{"inspect", write("bomb.pt", z.Bytes())}, exitModel,
			"a decompression bomb?"},
		{"10M MEMOIZE", []string{"inspect", write("memo.pt", append(append([]byte{0x80, 2, 'N'}, bytes.Repeat([]byte{0x94}, 10_000_000)...), '.'))}, exitModel,
			"pickle too large"},
		{"list of 20M None", []string{"inspect", write("none.pt", append(append([]byte{0x80, 2, ']', '('}, bytes.Repeat([]byte{'N'}, 20_000_000)...), 'e', '.'))}, exitModel,
			"pickle too large"},
		// The largest flood the pickle budget lets through to gopickle.
		{"list of 2M None (just within the pickle budget)", []string{"inspect", write("none2.pt", append(append([]byte{0x80, 2, ']', '('}, bytes.Repeat([]byte{'N'}, 2_000_000)...), 'e', '.'))}, exitModel,
			"a pickle without PyTorch's magic number"},
		{"model_kwargs describing 2.4 GB of parameters", []string{"inspect", shippedWith(t, dir, "wide.safetensors", "refinement_dims", []int{4096, 4096, 2048, 1024, 64})}, exitModel,
			"the generator's kwargs describe 604558035 parameters but the checkpoint holds only"},
		{"safetensors header of 2M empty tensors", []string{"inspect", write("empty.safetensors", append(st, h...))}, exitModel,
			"safetensors: header of 114881574 bytes, more than the 100000000 allowed"},
		{"legacy storage of 2^62 values", []string{"inspect", write("huge.pt", legacyFile(tensorCheckpoint(1<<62, 0, true), []string{"s"}, binary.LittleEndian.AppendUint64(nil, 1<<62)))}, exitModel,
			`storage "s" needs 18446744073709551616 bytes`},
		{"model_kwargs image_size [4096, 4096]", []string{"generate", "--model", shippedWith(t, dir, "big.safetensors", "image_size", []int{4096, 4096}), "--graphs", graphs, "--out", out}, exitModel,
			"image_size [4096 4096] with mask_size 16 and gconv_dim 64, for each of 256 objects, needs about 67574 MiB of activations"},
		{"weights of 3e38", []string{"generate", "--model", shippedWith(t, dir, "huge-weights.safetensors", "", nil), "--graphs", graphs, "--out", out}, exitModel,
			"NaN or infinite pixels"},
		{"200 MB scene-graph file", []string{"generate", "--model", "../../weights/shipped/model.safetensors", "--graphs", sg, "--out", out}, exitInput,
			"more than 16 MiB"},
	}
}

// shippedWith writes the shipped model with model_kwargs[key] = val, or
// with every weight 3e38 (finite, huge) when key is "".
func shippedWith(t *testing.T, dir, name, key string, val any) string {
	ck, err := weights.Load("../../weights/shipped/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		var kw map[string]any
		json.Unmarshal(ck.ModelKwargs, &kw)
		kw[key] = val
		ck.ModelKwargs, _ = json.Marshal(kw)
	} else {
		for _, x := range ck.Model {
			if x.DType == weights.F32 {
				for i := range x.T.Data {
					x.T.Data[i] = 3e38
				}
			}
		}
	}
	p := filepath.Join(dir, name)
	if err := ck.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// cliEnv, when set in the environment of this test binary, makes it run
// the CLI on the JSON list of arguments it holds, then print its peak
// resident set (VmHWM, which belongs to the process's own memory since its
// exec: unlike ru_maxrss it does not count what it shared with its parent).
const cliEnv = "SG2IM_TEST_CLI_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		code := run(argv, os.Stdout, os.Stderr)
		fmt.Fprintf(os.Stderr, "\npeak-kB %d\n", vmHWM())
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// vmHWM is this process's peak resident set in kB, from /proc.
func vmHWM() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			var kb int64
			fmt.Sscan(f[1], &kb)
			return kb
		}
	}
	return -1
}

// TestHostileFilesCLI runs the CLI in a fresh process on each hostile file,
// as a user would, and reads its peak memory.
func TestHostileFilesCLI(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range hostileFiles(t, dir) {
		argv, _ := json.Marshal(tc.args)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), cliEnv+"="+string(argv))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		code := cmd.ProcessState.ExitCode()
		text, peak, ok := strings.Cut(stderr.String(), "\npeak-kB ")
		var kb int64
		if _, err := fmt.Sscan(peak, &kb); !ok || err != nil || kb <= 0 {
			t.Fatalf("%s: no peak memory reported: %q", tc.name, stderr.String())
		}
		rss := kb << 10
		t.Logf("%s: exit %d, peak RSS %d MiB: %s", tc.name, code, rss>>20, strings.TrimSpace(text))
		if code != tc.code || !strings.Contains(text, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tc.name, code, text, tc.code, tc.want)
		}
		if rss > maxHostileRSS {
			t.Errorf("%s: peak RSS %d MiB, want under %d MiB", tc.name, rss>>20, maxHostileRSS>>20)
		}
	}
}
