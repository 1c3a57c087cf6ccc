package model

import (
	"path/filepath"
	"testing"

	"github.com/sg2im-go/sg2im/internal/fixture"
	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

func loadAll(t *testing.T, file string) (*Generator, *ImageDiscriminator, *ObjectDiscriminator) {
	t.Helper()
	ck, err := weights.Load(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := FromCheckpoint(ck)
	if err != nil {
		t.Fatal(err)
	}
	dImg, dObj, err := DiscriminatorsFromCheckpoint(ck, g.Config.Vocab)
	if err != nil {
		t.Fatal(err)
	}
	if dImg == nil || dObj == nil {
		t.Fatal("checkpoint without discriminators")
	}
	return g, dImg, dObj
}

// TestDiscriminatorParity scores the reference's gt_layout images.
func TestDiscriminatorParity(t *testing.T) {
	for _, name := range parityCases {
		c := fixture.Load(t, name)
		t.Run(name, func(t *testing.T) {
			g, dImg, dObj := loadAll(t, c.Checkpoints[0])
			img := nn.Const(c.Want(t, "gt_layout.img"))
			fixture.AssertClose(t, "eval.d_img_scores", dImg.Forward(nil, false, img).Value, c.Want(t, "eval.d_img_scores"), parityTol)
			scores, ac := dObj.Forward(nil, false, img, ints(c.Want(t, "input.objs")), c.Want(t, "input.boxes_gt"), ints(c.Want(t, "input.obj_to_img")))
			fixture.AssertClose(t, "eval.d_obj_scores", scores.Value, c.Want(t, "eval.d_obj_scores"), parityTol)
			fixture.AssertClose(t, "eval.d_obj_ac_loss", ac.Value, c.Want(t, "eval.d_obj_ac_loss"), parityTol)
			_ = g
		})
	}
}
