"""The PyTorch half of cmd/sg2im/pytorch_test.go (TestPyTorchParity), which
compares its outputs with sg2im's Go trainer and generator:

  python3 go_parity.py SHARDS_DIR WORK_DIR

writes into WORK_DIR:
- init.safetensors: a tiny model's three networks (pytorch/train.py's Nets,
  seed 5), as pytorch/train.py writes checkpoints;
- batch.safetensors: the first 4 examples of the shards (draw 0) as
  pytorch/shards.py collates them, and the layout noise of the step;
- after.safetensors, losses.json: the networks and the losses after one
  training step of pytorch/trainer.py (the release's defaults) on that batch;
- generated.safetensors: the image the stepped generator gives in eval mode
  for the batch's scene graphs with the predicted layout and the same noise.
"""
import json
import os
import sys
import types

import torch

from common import PYTORCH  # noqa: F401  (puts pytorch/ on the path)
import shards as S
import st
import train as T
import trainer

ARGS = ['--embedding_dim', '16', '--gconv_dim', '16', '--gconv_hidden_dim', '32', '--gconv_num_layers', '2',
        '--refinement_network_dims', '32,16,8', '--layout_noise_dim', '4', '--d_obj_arch', 'C4-8-2,C4-16-2',
        '--d_img_arch', 'C4-8-2,C4-16-2', '--crop_size', '16', '--seed', '5']


def main():
    shards, work = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    ds = S.ShardSet(shards)
    a = T.parser().parse_args(['--shards', shards] + ARGS)
    a.image_size, a.mask_size = list(ds.image_size), ds.mask_size
    nets = T.Nets(a, ds.vocab, log=lambda m: None)
    st.write_atomic(os.path.join(work, 'init.safetensors'), T.weights_file(nets, a, '{}'))
    b = S.collate([ds[(i, 0)] for i in range(4)])
    H, W = a.image_size
    noise = torch.randn(4, a.layout_noise_dim, H, W, generator=torch.Generator().manual_seed(11))
    st.write(os.path.join(work, 'batch.safetensors'),
             {'imgs': b['imgs'], 'objs': b['objs'], 'boxes': b['boxes'], 'masks': b['masks'],
              'triples': b['triples'], 'obj_to_img': b['obj_to_img'], 'noise': noise})
    step = trainer.Step(a, nets.G, nets.d_obj, nets.d_img, nets.opt_g, nets.opt_obj, nets.opt_img)
    losses, _ = step(b, noise=noise)
    st.write_atomic(os.path.join(work, 'after.safetensors'), T.weights_file(nets, a, '{}'))
    with open(os.path.join(work, 'losses.json'), 'w') as f:
        json.dump(losses, f)
    nets.G.eval()
    with torch.no_grad():
        img, _, _, _ = nets.G(b['objs'], b['triples'], b['obj_to_img'], noise=noise)
    st.write(os.path.join(work, 'generated.safetensors'), {'img': img})


if __name__ == '__main__':
    main()
