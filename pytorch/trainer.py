"""The release's training step (scripts/train.py's loop body, spec 4) on
one process or many.

With several processes (DDP), every loss that the release averages over
objects, crops, pixels or score-map positions is averaged over the global
batch: each process divides its own sum by the count of all processes
together (one all-reduce per batch) and multiplies by the number of
processes, because DDP averages gradients; with SyncBatchNorm, N processes
with B images each then compute the gradients one process computes with
N*B. The loss values reported are the global ones.
"""
import math

import torch
import torch.distributed as dist
import torch.nn.functional as F

import model as M

# Generator losses in the order the release adds them, after this program's
# appearance_kl (first, as Go's Trainer.Step adds it).
G_LOSSES = ('appearance_kl', 'L1_pixel_loss', 'bbox_pred', 'mask_loss', 'ac_loss', 'g_gan_obj_loss',
            'g_gan_img_loss')


class Averager:
    """Global means over a group of processes (or plain means alone)."""

    def __init__(self, group=None):
        self.group = group
        self.world = dist.get_world_size(group) if group is not None else 1
        self.counts = {}

    def start_batch(self, n_images, n_objects, device):
        if self.world == 1:
            return
        c = torch.tensor([float(n_images), float(n_objects)], dtype=torch.float64, device=device)
        dist.all_reduce(c, group=self.group)
        self.counts = {'images': (c[0].item(), n_images), 'objects': (c[1].item(), n_objects)}

    def mean(self, x, per):
        """The mean of x over the global batch; per says which of the
        batch's items ("images" or "objects") x's first dimension counts."""
        if self.world == 1:
            return x.mean()
        total, local = self.counts[per]
        return x.sum() * (self.world * local / (total * x.numel()))  # per-item size x.numel()/local

    def report(self, values):
        """Global loss values from this process's (dict of floats)."""
        if self.world == 1:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        if self.group is not None and dist.get_backend(self.group) == 'nccl':
            t = t.cuda()
        dist.all_reduce(t, group=self.group)
        return {k: v / self.world for k, v in zip(keys, t.tolist())}


def bce_with_logits(x, target, avg, per):
    """The release's bce_loss: the stable max(x, 0) - x*y + log(1 + exp(-|x|))."""
    x = x.reshape(x.shape[0], -1)
    return avg.mean(x.clamp(min=0) - x * target + (1 + (-x.abs()).exp()).log(), per)


def g_gan_loss(kind, fake, avg, per):
    if kind == 'wgan':
        return -avg.mean(fake.reshape(fake.shape[0], -1), per)
    if kind == 'lsgan':
        return avg.mean((fake.reshape(fake.shape[0], -1).sigmoid() - 1) ** 2, per)
    return bce_with_logits(fake, 1.0, avg, per)


def d_gan_loss(kind, real, fake, avg, per):
    if kind == 'wgan':
        return avg.mean(fake.reshape(fake.shape[0], -1), per) - avg.mean(real.reshape(real.shape[0], -1), per)
    if kind == 'lsgan':
        return (avg.mean((real.reshape(real.shape[0], -1).sigmoid() - 1) ** 2, per)
                + avg.mean(fake.reshape(fake.shape[0], -1).sigmoid() ** 2, per))
    return bce_with_logits(real, 1.0, avg, per) + bce_with_logits(fake, 0.0, avg, per)


class Step:
    """One training iteration of the release: the generator on the real
    boxes and masks with its weighted losses, Adam; then each discriminator
    on the detached fakes and the reals, Adam.

    All gradients are cleared once, before the generator's backward, so the
    discriminators' gradients from the generator's adversarial and
    auxiliary losses add to those of their own losses: the step of the
    reference fixtures (testdata/, train.grad.d_*) and of sg2im train
    (model.Trainer.Step)."""

    def __init__(self, args, G, d_obj, d_img, opt_g, opt_obj, opt_img, group=None):
        self.a, self.G, self.d_obj, self.d_img = args, G, d_obj, d_img
        self.opt_g, self.opt_obj, self.opt_img = opt_g, opt_obj, opt_img
        self.avg = Averager(group)

    def weights(self):
        a = self.a
        return {'appearance_kl': getattr(a, 'appearance_kl_weight', 0.0),
                'L1_pixel_loss': a.l1_pixel_loss_weight, 'bbox_pred': a.bbox_pred_loss_weight,
                'mask_loss': a.mask_loss_weight, 'ac_loss': a.ac_loss_weight,
                'g_gan_obj_loss': a.discriminator_loss_weight * a.d_obj_weight,
                'g_gan_img_loss': a.discriminator_loss_weight * a.d_img_weight}

    def options(self, b, eps):
        """What this program's generator options take from the real batch
        (Go's Trainer.trainingOptions): the instance indices from the true
        boxes' left-to-right order, and the real images, from whose crops
        the appearance vectors are encoded and sampled with eps."""
        g = getattr(self.G, 'module', self.G)  # under DDP, the model it wraps
        opt = {}
        if g.instance_embeddings > 0:
            opt['instances'] = M.instance_index(b['objs'], b['obj_to_img'], b['boxes'], g.instance_embeddings)
        if g.appearance_dim > 0:
            opt['imgs_gt'], opt['eps'] = b['imgs'], eps
        return opt

    def __call__(self, b, noise=None, eps=None):
        """b: dict with imgs (N,3,H,W), objs (O), boxes (O,4), masks (O,M,M)
        or None, triples (T,3), obj_to_img (O). noise is the layout noise,
        eps (O, A) the standard normal draws of the appearance vectors'
        sample (each drawn when None). Returns (losses, img_pred); losses is
        None for a skipped (non-finite) step."""
        a, avg = self.a, self.avg
        imgs, objs, boxes, masks, obj_to_img = b['imgs'], b['objs'], b['boxes'], b.get('masks'), b['obj_to_img']
        avg.start_batch(imgs.shape[0], objs.shape[0], imgs.device)
        use_masks = a.mask_loss_weight > 0 and masks is not None
        out = self.G(objs, b['triples'], obj_to_img, boxes_gt=boxes, masks_gt=masks, noise=noise,
                     aux_grad=use_masks, rel_grad=False, **self.options(b, eps))
        img_pred, boxes_pred, masks_pred = out[:3]
        terms = {}
        if len(out) > 4:
            mu, logvar = out[4]
            terms['appearance_kl'] = avg.mean(M.kl_std_normal(mu, logvar), 'objects')
        terms['L1_pixel_loss'] = avg.mean((img_pred - imgs).abs(), 'images')
        terms['bbox_pred'] = avg.mean((boxes_pred - boxes) ** 2, 'objects')
        if use_masks and masks_pred is not None:
            # F.binary_cross_entropy, its log clamped at -100 as PyTorch does.
            m = masks.to(masks_pred.dtype)
            bce = -(m * masks_pred.log().clamp(min=-100) + (1 - m) * (1 - masks_pred).log().clamp(min=-100))
            terms['mask_loss'] = avg.mean(bce, 'objects')
        if self.d_obj is not None:
            scores, logits = self.d_obj(img_pred, objs, boxes, obj_to_img)
            terms['ac_loss'] = avg.mean(F.cross_entropy(logits, objs, reduction='none'), 'objects')
            terms['g_gan_obj_loss'] = g_gan_loss(a.gan_loss_type, scores, avg, 'objects')
        if self.d_img is not None:
            terms['g_gan_img_loss'] = g_gan_loss(a.gan_loss_type, self.d_img(img_pred), avg, 'images')
        w = self.weights()
        total = None
        for name in G_LOSSES:
            if name in terms:
                total = terms[name] * w[name] if total is None else total + terms[name] * w[name]
        losses = {k: v.item() for k, v in terms.items()}
        losses['total_loss'] = total.item()
        losses = avg.report(losses)
        if not math.isfinite(losses['total_loss']):
            return None, img_pred.detach()
        for opt in (self.opt_g, self.opt_obj, self.opt_img):
            if opt is not None:
                opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        fake = img_pred.detach()
        d = {}
        if self.d_obj is not None:
            sf, lf = self.d_obj(fake, objs, boxes, obj_to_img)
            sr, lr = self.d_obj(imgs, objs, boxes, obj_to_img)
            gan = d_gan_loss(a.gan_loss_type, sr, sf, avg, 'objects')
            ac_real = avg.mean(F.cross_entropy(lr, objs, reduction='none'), 'objects')
            ac_fake = avg.mean(F.cross_entropy(lf, objs, reduction='none'), 'objects')
            d_total = gan + ac_real + ac_fake
            d.update(d_obj_gan_loss=gan.item(), d_ac_loss_real=ac_real.item(), d_ac_loss_fake=ac_fake.item(),
                     d_obj_total=d_total.item())
            d_total.backward()
            self.opt_obj.step()
        if self.d_img is not None:
            # The release scores the fakes first (batch norm statistics
            # see them in that order).
            sf = self.d_img(fake)
            sr = self.d_img(imgs)
            gan = d_gan_loss(a.gan_loss_type, sr, sf, avg, 'images')
            d['d_img_gan_loss'] = gan.item()
            gan.backward()
            self.opt_img.step()
        losses.update(avg.report(d))
        return losses, fake
