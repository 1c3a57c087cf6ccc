"""The PyTorch model against the release's reference fixtures (testdata/):
forward passes within 1e-5 for all four cases; for tiny_masks one training
step of pytorch/trainer.py, with PyTorch's batch norm and with --sync_bn 1's
arithmetic: losses (relative 1e-5), every gradient (1e-4 of
the largest reference value plus 1e-7, train/step_test.go's bound) and the
parameters after Adam (3e-5, ditto; biases that feed a train-mode batch norm
have float-noise gradients whose first Adam step is +-lr, so 2*lr there)."""
import types

import torch

from common import CASES, Failures, build, encode, load_case
import model as M
import trainer

TOL = 1e-5


def forward_case(name):
    meta, want, ck = load_case(name)
    G, d_obj, d_img = build(ck)
    for m in (G, d_obj, d_img):
        m.eval()
    f = Failures()
    objs, triples, obj_to_img = encode(meta['scene_graphs'], ck['model_kwargs']['vocab'])
    f.close('input.objs', objs, want['input.objs'], 0)
    f.close('input.triples', triples, want['input.triples'], 0)
    with torch.no_grad():
        img, boxes, masks, rel = G(objs, triples, obj_to_img, noise=want.get('eval.noise'))
        f.close('eval.img', img, want['eval.img'], TOL)
        f.close('eval.boxes_pred', boxes, want['eval.boxes_pred'], TOL)
        f.close('eval.rel_scores', rel, want['eval.rel_scores'], TOL)
        if 'eval.masks_pred' in want:
            f.close('eval.masks_pred', masks, want['eval.masks_pred'], TOL)
        img, _, _, _ = G(objs, triples, obj_to_img, boxes_gt=want['input.boxes_gt'],
                         masks_gt=want.get('input.masks_gt'), noise=want.get('gt_layout.noise'))
        f.close('gt_layout.img', img, want['gt_layout.img'], TOL)
        f.close('eval.d_img_scores', d_img(want['gt_layout.img']), want['eval.d_img_scores'], TOL)
        scores, logits = d_obj(want['gt_layout.img'], objs, want['input.boxes_gt'], obj_to_img)
        f.close('eval.d_obj_scores', scores, want['eval.d_obj_scores'], TOL)
        ac = torch.nn.functional.cross_entropy(logits, objs).view(1)
        f.close('eval.d_obj_ac_loss', ac, want['eval.d_obj_ac_loss'], TOL)
    f.done('forward ' + name)


def noise_bias(G, name):
    """A conv bias directly followed by a batch norm (train/step_test.go's noiseBias)."""
    if not name.endswith('.bias'):
        return False
    prefix, _, idx = name[:-len('.bias')].rpartition('.')
    return idx.isdigit() and '%s.%d.running_mean' % (prefix, int(idx) + 1) in dict(G.named_buffers())


def train_step_case(sync):
    """sync: batch norms in --sync_bn 1's arithmetic (one process), which
    must reproduce the release too."""
    meta, want, ck = load_case('tiny_masks')
    G, d_obj, d_img = build(ck)
    if sync:
        for m in (G, d_obj, d_img):
            M.sync_batch_norms(m, M.SINGLE)
    args = types.SimpleNamespace(l1_pixel_loss_weight=1.0, bbox_pred_loss_weight=10.0, mask_loss_weight=0.0,
                                 ac_loss_weight=0.1, discriminator_loss_weight=0.01, d_obj_weight=1.0,
                                 d_img_weight=1.0, gan_loss_type='gan', learning_rate=1e-4)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-4) for m in (G, d_obj, d_img)]
    step = trainer.Step(args, G, d_obj, d_img, *opts)
    objs, triples, obj_to_img = encode(meta['scene_graphs'], ck['model_kwargs']['vocab'])
    b = dict(imgs=want['train.imgs'], objs=objs, boxes=want['input.boxes_gt'], masks=want['input.masks_gt'],
             triples=triples, obj_to_img=obj_to_img)
    losses, fake = step(b, noise=want['train.noise'])
    f = Failures()
    f.close('train.img_pred', fake, want['train.img_pred'], TOL)
    for k, v in meta['train_losses'].items():
        f.close('loss ' + k, torch.tensor(losses[k]), torch.tensor(v), 1e-5 * abs(v))
    for prefix, m in (('', G), ('d_obj.', d_obj), ('d_img.', d_img)):
        for n, p in m.named_parameters():
            ref = want.get('train.grad.' + prefix + n)
            if ref is None:
                if p.grad is not None and p.grad.abs().max() != 0:
                    f.errors.append('%s%s has a gradient; the reference has none' % (prefix, n))
                continue
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            f.close('grad ' + prefix + n, grad, ref, 1e-4 * ref.abs().max().item() + 1e-7)
    state = dict(G.named_parameters())
    state.update(G.named_buffers())
    for n, t in state.items():
        ref = want.get('train.after_step.' + n)
        if ref is None:
            continue
        tol = 2 * 1e-4 * 1.01 if noise_bias(G, n) else 3e-5
        f.close('after_step ' + n, t, ref, tol)
    f.done('train step tiny_masks' + (', batch norms of --sync_bn 1' if sync else ''))


if __name__ == '__main__':
    torch.set_num_threads(1)
    for c in CASES:
        forward_case(c)
    train_step_case(False)
    train_step_case(True)
