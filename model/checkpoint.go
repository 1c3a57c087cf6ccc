package model

import (
	"fmt"

	"github.com/sg2im-go/sg2im/nn"
	"github.com/sg2im-go/sg2im/weights"
)

// FromCheckpoint builds the generator a checkpoint describes and loads its
// weights. Warnings name the model_kwargs keys that were ignored.
func FromCheckpoint(ck *weights.Checkpoint) (*Generator, []string, error) {
	cfg, warnings, err := ParseConfig(ck.ModelKwargs)
	if err != nil {
		return nil, nil, err
	}
	state := StateMap(ck.Model)
	if err := cfg.CheckState(state); err != nil {
		return nil, nil, err
	}
	g, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := g.LoadState(state); err != nil {
		return nil, nil, err
	}
	return g, warnings, nil
}

// CheckState refuses a state dict with fewer values than the generator of
// c has parameters, before New allocates them: a config that does not
// belong to its weights fails anyway, and may not make a small file
// allocate gigabytes first.
func (c *Config) CheckState(state map[string]*nn.Tensor) error {
	need, err := c.stateSize()
	if err != nil {
		return err
	}
	return checkHeld("generator", need, state)
}

// CheckState is Config.CheckState for a discriminator, counting the values
// of its convolutions.
func (c DConfig) CheckState(state map[string]*nn.Tensor) error {
	return checkHeld("discriminator", c.numParams(), state)
}

func checkHeld(what string, need int64, state map[string]*nn.Tensor) error {
	var held int64
	for _, t := range state {
		held += int64(len(t.Data))
	}
	if need > held {
		return fmt.Errorf("model: the %s's kwargs describe %d parameters but the checkpoint holds only %d values: the kwargs do not belong to the weights, or the file is corrupt", what, need, held)
	}
	return nil
}

// StateMap indexes a state dict by name.
func StateMap(ts []weights.Tensor) map[string]*nn.Tensor {
	m := make(map[string]*nn.Tensor, len(ts))
	for _, t := range ts {
		m[t.Name] = t.T
	}
	return m
}

// State returns the generator's parameters and buffers as a state dict,
// parameters first, num_batches_tracked as int64 as PyTorch keeps it.
func (g *Generator) State() []weights.Tensor {
	var out []weights.Tensor
	for _, group := range [][]Named{g.reg.params, g.reg.buffers} {
		for _, p := range group {
			dt := weights.F32
			if g.reg.optional[p.Name] {
				dt = weights.I64
			}
			out = append(out, weights.Tensor{Name: p.Name, DType: dt, T: p.T})
		}
	}
	return out
}

// DiscriminatorsFromCheckpoint builds and loads the discriminators a
// checkpoint holds; either is nil when absent.
func DiscriminatorsFromCheckpoint(ck *weights.Checkpoint, v *Vocab) (*ImageDiscriminator, *ObjectDiscriminator, error) {
	var dImg *ImageDiscriminator
	var dObj *ObjectDiscriminator
	var err error
	if ck.DImgKwargs != nil && ck.DImg != nil {
		if dImg, err = LoadImageDiscriminator(ck.DImgKwargs, StateMap(ck.DImg)); err != nil {
			return nil, nil, err
		}
	}
	if ck.DObjKwargs != nil && ck.DObj != nil {
		if dObj, err = LoadObjectDiscriminator(ck.DObjKwargs, len(v.ObjectIdxToName), StateMap(ck.DObj)); err != nil {
			return nil, nil, err
		}
	}
	return dImg, dObj, nil
}

// LoadImageDiscriminator builds the image discriminator its kwargs
// describe and loads its state; errors start with "d_img: ".
func LoadImageDiscriminator(kwargs []byte, state map[string]*nn.Tensor) (*ImageDiscriminator, error) {
	c, err := ParseDConfig(kwargs)
	if err != nil {
		return nil, fmt.Errorf("d_img: %w", err)
	}
	// The state must match the config before the network is allocated.
	if err := c.CheckState(state); err != nil {
		return nil, fmt.Errorf("d_img: %w", err)
	}
	d, err := NewImageDiscriminator(c)
	if err == nil {
		err = d.LoadState(state)
	}
	if err != nil {
		return nil, fmt.Errorf("d_img: %w", err)
	}
	return d, nil
}

// LoadObjectDiscriminator builds the object discriminator its kwargs
// describe, classifying numObjects object ids, and loads its state; errors
// start with "d_obj: ".
func LoadObjectDiscriminator(kwargs []byte, numObjects int, state map[string]*nn.Tensor) (*ObjectDiscriminator, error) {
	c, err := ParseDConfig(kwargs)
	if err != nil {
		return nil, fmt.Errorf("d_obj: %w", err)
	}
	// The state must match the config before the network is allocated.
	if err := c.CheckState(state); err != nil {
		return nil, fmt.Errorf("d_obj: %w", err)
	}
	d, err := NewObjectDiscriminator(c, numObjects)
	if err == nil {
		err = d.LoadState(state)
	}
	if err != nil {
		return nil, fmt.Errorf("d_obj: %w", err)
	}
	return d, nil
}
