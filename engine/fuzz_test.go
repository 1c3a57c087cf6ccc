package engine

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sg2im-go/sg2im/protocol"
)

// FuzzDecodeRequest sends decoded requests to an engine holding a fixture
// model, as the worker does: each ends in an error or in the images asked
// for, never in a panic.
func FuzzDecodeRequest(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "tiny_masks.zip.pt"))
	if err != nil {
		f.Fatal(err)
	}
	var e Engine
	if _, err := e.Load("tiny_masks.zip.pt", data); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"v":1,"id":1,"kind":"generate","generate":{"graph":{"objects":["sky","grass","sheep"],"relationships":[[0,"above",1],[2,"inside",1]]},"seed":3,"count":2}}`,
		`{"v":1,"id":2,"kind":"generate","generate":{"graph":{"objects":[]},"text":"sheep inside grass; sky above grass","seed":1}}`,
		`{"v":1,"id":3,"kind":"generate","generate":{"graph":{"objects":["sky","sheep"]},"boxes":[[0,0,1,0.5],[0.2,0.5,0.6,1]]}}`,
		`{"v":1,"id":4,"kind":"load","load":{"name":"x"}}`,
		`{"v":1,"id":6,"kind":"generate","generate":{"graph":{"objects":["sky","sheep"]},"appearance_seeds":[null,7]}}`,
		`{"v":1,"id":5,"kind":"bench","bench":{"config":"loaded","reps":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		req, err := protocol.DecodeRequest(msg)
		if err != nil || req.Kind != protocol.KindGenerate {
			return
		}
		res, err := e.Generate(req.Generate)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) && !errors.Is(err, ErrNotFinite) {
				t.Fatalf("error %v is neither an input error nor ErrNotFinite", err)
			}
			return
		}
		want := max(req.Generate.Count, 1)
		if len(res.RGBA) != want || len(res.Seeds) != want {
			t.Fatalf("%d images for a count of %d", len(res.RGBA), req.Generate.Count)
		}
		for _, px := range res.RGBA {
			if len(px) != 4*res.Width*res.Height || res.Width != 32 || res.Height != 32 {
				t.Fatalf("image of %d bytes, %dx%d", len(px), res.Width, res.Height)
			}
		}
		if len(res.Boxes) != len(res.Graph.Objects) {
			t.Fatalf("%d boxes for %d objects", len(res.Boxes), len(res.Graph.Objects))
		}
	})
}
