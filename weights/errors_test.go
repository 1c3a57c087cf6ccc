package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkpointFiles are the fixtures Decode accepts.
var checkpointFiles = []string{
	"tiny_masks.legacy.pt", "tiny_masks.zip.pt", "tiny_boxes.zip.pt",
	"tiny_linear.legacy.pt", "tiny_oldformat.legacy.pt",
}

// mustFail checks that Decode rejects data with a *FormatError.
func mustFail(t *testing.T, what string, data []byte) {
	t.Helper()
	c, err := Decode(data)
	if err == nil {
		t.Errorf("%s: no error (format %s)", what, c.Format)
		return
	}
	if fe, ok := errors.AsType[*FormatError](err); !ok {
		t.Errorf("%s: error %T %v is not a *FormatError", what, err, err)
	} else if !strings.HasPrefix(fe.Error(), "weights: ") || strings.Contains(fe.Msg, "weights:") {
		t.Errorf("%s: badly formed message %q", what, fe.Error())
	}
}

func TestTruncated(t *testing.T) {
	files := append(checkpointFiles, "tiny_linear.expected.safetensors")
	safe, _ := os.ReadFile(filepath.Join("..", "testdata", "tiny_masks.expected.safetensors"))
	for _, name := range files {
		data := readTestdata(t, name)
		if strings.HasSuffix(name, ".safetensors") {
			// Give the expected file the metadata of a checkpoint.
			c, err := Decode(readTestdata(t, "tiny_linear.legacy.pt"))
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			c.WriteSafetensors(&b)
			data = b.Bytes()
		}
		// Every cut in the first 300 bytes (headers, first pickles), then
		// 150 spread over the rest, then the last bytes.
		var cuts []int
		for n := range min(300, len(data)) {
			cuts = append(cuts, n)
		}
		for i := range 150 {
			cuts = append(cuts, 300+i*(len(data)-300)/150)
		}
		for n := len(data) - 16; n < len(data); n++ {
			cuts = append(cuts, n)
		}
		for _, n := range cuts {
			mustFail(t, name+" cut at "+strconv.Itoa(n), data[:n])
		}
		// ReadSafetensors gets the same treatment on a file without metadata.
		if strings.HasSuffix(name, ".safetensors") {
			for i := range 100 {
				n := i * len(safe) / 100
				if _, err := ReadSafetensors(safe[:n]); err == nil {
					t.Errorf("ReadSafetensors of a cut at %d: no error", n)
				}
			}
		}
	}
}

func TestTruncatedMessage(t *testing.T) {
	data := readTestdata(t, "tiny_linear.legacy.pt")
	path := filepath.Join(t.TempDir(), "checkpoint.pt")
	if err := os.WriteFile(path, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := "weights: " + path + ": truncated file: storage"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "fetch it again") {
		t.Errorf("error %v, want %q...", err, want)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.pt")); err == nil || !strings.Contains(err.Error(), "missing.pt") {
		t.Errorf("missing file: %v", err)
	}
}

func TestNotACheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"text", []byte("hello, world"), "not a PyTorch checkpoint or safetensors file"},
		{"html", []byte("<!DOCTYPE html><html>"), "not a PyTorch checkpoint or safetensors file"},
		{"lfs", []byte("version https://git-lfs.github.com/spec/v1\n"), "Git LFS pointer"},
		{"plain pickle", []byte("\x80\x02}q\x00.)"), "magic number"},
		{"zip without data.pkl", emptyZip(t), "no data.pkl"},
		{"safetensors without kwargs", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), `no "model_kwargs" metadata`},
		{"safetensors bad kwargs", stFile(`{"__metadata__":{"model_kwargs":"{"}}`, nil), "not valid JSON"},
		{"safetensors other format", stFile(`{"__metadata__":{"model_kwargs":"{}","format":"pt"}}`, nil), `format "pt"`},
		{"safetensors huge length", append(binary.LittleEndian.AppendUint64(nil, 1<<40), '{'), "truncated"},
	} {
		_, err := Decode(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}

// emptyZip is a zip archive holding one unrelated file.
func emptyZip(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("readme.txt")
	w.Write([]byte("hi"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCorrupted(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, name := range checkpointFiles {
		orig := readTestdata(t, name)
		for range 60 {
			data := bytes.Clone(orig)
			// Hit the pickles more often than the tensor data.
			span := min(len(data), 20000)
			for range 1 + rng.Intn(4) {
				data[rng.Intn(span)] = byte(rng.Intn(256))
			}
			Decode(data) // may succeed; must not panic
		}
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := range 500 {
		data := make([]byte, rng.Intn(600))
		rng.Read(data)
		switch i % 4 { // steer towards each format's first checks
		case 1:
			data = append([]byte{0x80, 2}, data...)
		case 2:
			data = append([]byte("PK\x03\x04"), data...)
		case 3:
			data = append(binary.LittleEndian.AppendUint64(nil, uint64(len(data))), append([]byte{'{'}, data...)...)
		}
		mustFail(t, "random bytes", data)
		ReadSafetensors(data)
	}
}

func TestHostilePickles(t *testing.T) {
	long := func(op byte, n uint64) []byte {
		return append([]byte{0x80, 2, op}, binary.LittleEndian.AppendUint64(nil, n)...)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"huge BINUNICODE8", long(0x8d, 1<<62)},
		{"huge BINBYTES8", long(0x8e, 1<<40)},
		{"huge FRAME", long(0x95, 1<<40)},
		{"huge BINUNICODE", []byte{0x80, 2, 'X', 0xff, 0xff, 0xff, 0xff}},
		{"negative BINSTRING", []byte{0x80, 2, 'T', 0xff, 0xff, 0xff, 0xff, '.'}},
		{"empty LONG4", []byte{0x80, 2, 0x8b, 0, 0, 0, 0, '.'}},
		{"deep marks", append(append([]byte{0x80, 2}, bytes.Repeat([]byte{'('}, 5000)...), '.')},
		{"odd dict", []byte{0x80, 2, '(', 'K', 1, 'd', '.'}},
		{"unhashable key", []byte{0x80, 2, 'c', 'c', 'o', 'l', 'l', 'e', 'c', 't', 'i', 'o', 'n', 's', '\n', 'O', 'r', 'd', 'e', 'r', 'e', 'd', 'D', 'i', 'c', 't', '\n', ')', 'R', 'C', 0, 'K', 1, 's', '.'}},
		{"opcode 0xff", []byte{0x80, 2, 0xff, '.'}},
		{"protocol 9", []byte{0x80, 9, '.'}},
		{"self-referencing list", []byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}},
	} {
		mustFail(t, tc.name, tc.data)
	}
	// A checkpoint whose args is a list containing itself.
	ck := fakeCheckpoint{kwargs: map[string]int{}, model: []fakeTensor{}, extra: func(p *pk) {
		p.str("args").op(']', 'q', 200, 'h', 200, 'a')
	}}
	mustFail(t, "cyclic args", ck.legacy())
}

// TestPickleErrorsInWords: what the unpickler quotes of a bad value is Go
// syntax (type names, addresses); the message keeps only its words.
func TestPickleErrorsInWords(t *testing.T) {
	for name, p := range map[string]*pk{
		"reduce of a dict":          (&pk{}).op(0x80, 2, '}', ')', 'R', '.'),
		"reduce of an unknown type": (&pk{}).op(0x80, 2).global("torch.nn", "Module").op(')', 0x81, ')', 'R', '.'),
		"setitems on a list":        (&pk{}).op(0x80, 2, ']', '(').str("k").str("v").op('u', '.'),
	} {
		_, _, err := unpickle(p.Bytes(), 0, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		msg := err.Error()
		for _, internal := range []string{"&", "0x", "weights.", "types.", "{", "map["} {
			if strings.Contains(msg, internal) {
				t.Errorf("%s: message %q shows %q", name, msg, internal)
			}
		}
		if !strings.Contains(msg, "checkpoint") {
			t.Errorf("%s: message %q does not say what the file should be", name, msg)
		}
		t.Logf("%s: %s", name, msg)
	}
}
