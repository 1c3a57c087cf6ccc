"""The PyTorch half of cmd/sg2im/pytorch_test.go (TestPyTorchParity), which
compares its outputs with sg2im's Go trainer and generator:

  python3 go_parity.py SHARDS_DIR WORK_DIR

writes two cases: WORK_DIR/release, the release's architecture, and
WORK_DIR/options, the same with this program's generator options
(OPTIONS: appearance vectors with their KL term, a sigmoid box head and its
bias init, instance embeddings; appearance_scale in the kwargs; mask loss
on). Each holds:
- init.safetensors: a tiny model's three networks (pytorch/train.py's Nets,
  seed 5), as pytorch/train.py writes checkpoints;
- batch.safetensors: the first 4 examples of the shards (draw 0) as
  pytorch/shards.py collates them, and the layout noise of the step; in
  the options case, the objects of images 0 and 1 all of one category each
  (so that instance indices follow the boxes, not the graph's order), the
  appearance draws eps of the step, the instance indices PyTorch's
  trainer derived from the true boxes, and the appearance vectors of the
  generation below;
- after.safetensors, losses.json: the networks and the losses after one
  training step of pytorch/trainer.py on that batch;
- generated.safetensors: the image (and in the options case the boxes,
  masks and relation scores) the stepped generator gives in eval mode for
  the batch's scene graphs with the predicted layout and the same noise.
"""
import json
import os
import sys

import torch

from common import PYTORCH  # noqa: F401  (puts pytorch/ on the path)
import model as M
import shards as S
import st
import train as T
import trainer

ARGS = ['--embedding_dim', '16', '--gconv_dim', '16', '--gconv_hidden_dim', '32', '--gconv_num_layers', '2',
        '--refinement_network_dims', '32,16,8', '--layout_noise_dim', '4', '--d_obj_arch', 'C4-8-2,C4-16-2',
        '--d_img_arch', 'C4-8-2,C4-16-2', '--crop_size', '16', '--seed', '5']
# TestPyTorchParity's options case (cmd/sg2im/pytorch_test.go) mirrors these.
OPTIONS = ['--appearance_dim', '4', '--appearance_kl_weight', '0.01', '--box_sigmoid', '1',
           '--instance_embeddings', '3', '--box_bias_init', '0.25,0.25,0.75,0.75', '--mask_loss_weight', '1']
APPEARANCE_SCALE = 0.5


def same_category(b, images):
    """Gives every object of each image but __image__ the category of the
    image's first object."""
    objs = b['objs'].clone()
    for i in images:
        idx = (b['obj_to_img'] == i).nonzero().flatten()[:-1]  # __image__ comes last
        objs[idx] = objs[idx[0]].item()
    return dict(b, objs=objs)


def case(ds, shards, work, extra):
    os.makedirs(work, exist_ok=True)
    a = T.parser().parse_args(['--shards', shards] + ARGS + extra)
    a.image_size, a.mask_size = list(ds.image_size), ds.mask_size
    nets = T.Nets(a, ds.vocab, log=lambda m: None)
    G = nets.G
    if G.appearance_dim:  # carried in the kwargs: Go must read it back
        G.kwargs['appearance_scale'] = G.appearance_scale = APPEARANCE_SCALE
    st.write_atomic(os.path.join(work, 'init.safetensors'), T.weights_file(nets, a, '{}'))
    b = S.collate([ds[(i, 0)] for i in range(4)])
    H, W = a.image_size
    noise = torch.randn(4, a.layout_noise_dim, H, W, generator=torch.Generator().manual_seed(11))
    batch = {'imgs': b['imgs'], 'objs': b['objs'], 'boxes': b['boxes'], 'masks': b['masks'],
             'triples': b['triples'], 'obj_to_img': b['obj_to_img'], 'noise': noise}
    eps = appearance = None
    if G.appearance_dim or G.instance_embeddings:
        b = same_category(b, (0, 1))
        O = b['objs'].shape[0]
        eps = torch.randn(O, G.appearance_dim, generator=torch.Generator().manual_seed(12))
        appearance = torch.randn(O, G.appearance_dim, generator=torch.Generator().manual_seed(13))
        batch.update(objs=b['objs'], eps=eps, appearance=appearance,
                     instances=M.instance_index(b['objs'], b['obj_to_img'], b['boxes'], G.instance_embeddings))
    st.write(os.path.join(work, 'batch.safetensors'), batch)
    step = trainer.Step(a, G, nets.d_obj, nets.d_img, nets.opt_g, nets.opt_obj, nets.opt_img)
    losses, _ = step(b, noise=noise, eps=eps)
    st.write_atomic(os.path.join(work, 'after.safetensors'), T.weights_file(nets, a, '{}'))
    with open(os.path.join(work, 'losses.json'), 'w') as f:
        json.dump(losses, f)
    G.eval()
    with torch.no_grad():
        img, boxes, masks, rel = G(b['objs'], b['triples'], b['obj_to_img'], noise=noise, appearance=appearance)
    out = {'img': img}
    if appearance is not None:
        out.update(boxes_pred=boxes, masks_pred=masks, rel_scores=rel)
    st.write(os.path.join(work, 'generated.safetensors'), out)


def main():
    shards, work = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    ds = S.ShardSet(shards)
    case(ds, shards, os.path.join(work, 'release'), [])
    case(ds, shards, os.path.join(work, 'options'), OPTIONS)


if __name__ == '__main__':
    main()
