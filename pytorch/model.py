"""The release's sg2im networks (github.com/google/sg2im, sg2im/model.py,
sg2im/discriminators.py, sg2im/layers.py, sg2im/layout.py), written for
current PyTorch: the generator, the patch image discriminator and the
auxiliary-classifier crop discriminator, under the release's state-dict
names, so that the release's checkpoints and our safetensors load as they
are. The rules and quirks are ../shared/docs/SG2IM_SPEC.md's (the section
numbers below); the Go implementation (package model) follows the same spec.

Beyond the release, the options of this program's generator (model.Config
in Go, all off when absent, so the release's checkpoints are unchanged):
appearance_dim (per-object appearance vectors, a conditional VAE encoder
on 16x16 crops of the real images), appearance_scale (their standard
deviation when drawn at inference), box_sigmoid (a sigmoid box head) and
instance_embeddings (a learned embedding of each object's rank among the
objects of its category), under Go's state-dict names.

Two deliberate differences from running the release's code on PyTorch 1.13:
grid_sample gets align_corners=True, the 0.4 behaviour the release trained
under (newer PyTorch changes it silently), and a degenerate box is widened
to one pixel instead of dividing by zero (spec 2.5), as the Go model does.
"""
import json
import math

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

# Model kwargs this package builds, and the retired ones that the release's
# own checkpoints carry and that mean nothing (spec 2).
KWARGS = {'image_size', 'embedding_dim', 'gconv_dim', 'gconv_hidden_dim', 'gconv_num_layers', 'gconv_pooling',
          'refinement_dims', 'normalization', 'activation', 'mask_size', 'mlp_normalization', 'layout_noise_dim',
          'vocab'} | {'appearance_dim', 'appearance_scale', 'box_sigmoid', 'instance_embeddings'}
# This program's options (Go's model.Config), left out of the kwargs when
# off, as Go writes them (omitempty).
OPTIONS = {'appearance_dim': 0, 'appearance_scale': 0.0, 'box_sigmoid': False, 'instance_embeddings': 0}
# Go's limits on them (model.Config.Validate).
MAX_DIM, MAX_INSTANCES = 1 << 14, 1 << 10
RETIRED = {'vec_noise_dim', 'gconv_mode', 'box_anchor', 'decouple_obj_predictions'}
REQUIRED = ('image_size', 'embedding_dim', 'gconv_dim', 'gconv_hidden_dim', 'gconv_num_layers', 'refinement_dims',
            'vocab')
DEFAULTS = dict(gconv_pooling='avg', normalization='batch', activation='leakyrelu-0.2', mask_size=None,
                mlp_normalization='none', layout_noise_dim=0)


class UnsupportedOption(ValueError):
    """A model option of a newer sg2im than this trainer knows."""


def check_kwargs(kwargs):
    """Returns (kwargs with defaults filled in, warnings). Keys this package
    does not build are an error naming them when they are set to anything
    but an empty value: training them as the release's model would
    silently drop what they add."""
    missing = [k for k in REQUIRED if kwargs.get(k) is None]
    if missing:
        raise ValueError('model_kwargs has no %s: the checkpoint is incomplete or not an sg2im model'
                         % ', '.join(missing))
    unknown = sorted(k for k, v in kwargs.items()
                     if k not in KWARGS | RETIRED and v not in (None, 0, False, '', [], {}))
    if unknown:
        raise UnsupportedOption(
            'model option(s) %s are not supported by the PyTorch trainer (it builds the release\'s architecture'
            ' and sg2im train\'s options); train this model with sg2im train, or leave the option(s) out'
            % ', '.join(unknown))
    warnings = ['model_kwargs: ignoring retired option %s' % k for k in sorted(kwargs) if k in RETIRED]
    out = dict(DEFAULTS)
    out.update({k: v for k, v in kwargs.items() if k in KWARGS})
    for k in ('normalization', 'mlp_normalization', 'gconv_pooling'):
        allowed = {'normalization': ('batch', 'instance', 'none'), 'mlp_normalization': ('batch', 'none'),
                   'gconv_pooling': ('avg', 'sum')}[k]
        if out[k] not in allowed:
            raise ValueError('model option %s %r: want one of %s' % (k, out[k], ', '.join(allowed)))
    leaky_slope(out['activation'])
    check_options(out)
    for k, off in OPTIONS.items():  # off is absent, as in Go's kwargs
        if k in out and out[k] in (None, off):
            del out[k]
    return out, warnings


def check_options(kw):
    """Go's checks of this program's options (model.Config.Validate)."""
    def whole(k, hi):
        v = kw.get(k) or 0
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
            raise ValueError('model option %s = %r: must be a whole number in [0, %d]' % (k, v, hi))
    whole('appearance_dim', MAX_DIM)
    whole('instance_embeddings', MAX_INSTANCES)
    sc = kw.get('appearance_scale') or 0
    if isinstance(sc, bool) or not isinstance(sc, (int, float)) or not 0 <= sc <= 10:
        raise ValueError('model option appearance_scale = %r: must be in [0, 10] (0 means 1)' % (sc,))
    if kw.get('box_sigmoid') not in (None, True, False):
        raise ValueError('model option box_sigmoid = %r: want true or false' % (kw['box_sigmoid'],))


def leaky_slope(name):
    """The slope of the LeakyReLU the release builds for an activation name
    in the CRN and the discriminators (spec 2, quirk: "relu" is 0.01)."""
    if name in ('relu', 'leakyrelu'):
        return 0.01
    if isinstance(name, str) and name.startswith('leakyrelu-'):
        try:
            s = float(name[len('leakyrelu-'):])
        except ValueError:
            s = -1
        if 0 <= s < 1e6:
            return s
    raise ValueError('activation %r: want relu, leakyrelu or leakyrelu-<slope> such as leakyrelu-0.2' % (name,))


# ---------------------------------------------------------------- batch norm

# The sync_group of batch norms synchronised in a run of one process: the
# same arithmetic, nothing to exchange.
SINGLE = 'single process'


def _all_reduce(t, group):
    if group is not SINGLE:
        dist.all_reduce(t, group=group)


class _SyncStats(torch.autograd.Function):
    """Batch norm over the batch of every process of a group: the batch
    statistics and, in backward, the sums of the output gradient are
    all-reduced, so that N processes with B examples each compute what one
    process with N*B computes. Works on gloo (CPU) and NCCL alike, which
    torch.nn.SyncBatchNorm (CUDA only) does not.

    The arithmetic follows PyTorch's own batch norm kernel, so that the two
    agree to float rounding even on nearly constant channels, where the
    normalisation amplifies rounding: the mean, then the sum of squared
    deviations from it, accumulated in float64; y = x * a + b with
    a = invstd * weight and b = bias - mean * a in float32; in backward the
    sums of dy and of (x - mean) * dy in float64."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, momentum, group):
        dims = [0] + list(range(2, x.dim()))
        c = x.shape[1]
        shape = [1, c] + [1] * (x.dim() - 2)
        s1 = torch.cat([torch.tensor([float(x.numel() // c)], dtype=torch.float64, device=x.device),
                        torch.sum(x, dims, dtype=torch.float64)])
        _all_reduce(s1, group)
        total = s1[0].item()
        mean64 = s1[1:] / total
        m2 = ((x.double() - mean64.view(shape)) ** 2).sum(dims)
        _all_reduce(m2, group)
        var64 = m2 / total
        mean = mean64.to(x.dtype)
        invstd = (1 / torch.sqrt(var64 + eps)).to(x.dtype)
        if running_mean is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * (m2 / max(total - 1, 1)).to(running_var.dtype))
        alpha = invstd * weight
        beta = bias - mean * alpha
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.total, ctx.group = total, group
        return x * alpha.view(shape) + beta.view(shape)

    @staticmethod
    def backward(ctx, dy):
        x, weight, mean, invstd = ctx.saved_tensors
        dims = [0] + list(range(2, dy.dim()))
        c = dy.shape[1]
        shape = [1, c] + [1] * (dy.dim() - 2)
        centred = x - mean.view(shape)
        sums_l = torch.cat([torch.sum(dy, dims, dtype=torch.float64),
                            torch.sum(centred * dy, dims, dtype=torch.float64)])
        sums = sums_l.clone()
        _all_reduce(sums, ctx.group)
        grad_mean = (sums[:c] / ctx.total).to(dy.dtype)
        k = (sums[c:] / ctx.total).to(dy.dtype) * invstd * invstd
        dx = (dy - grad_mean.view(shape) - centred * k.view(shape)) * (invstd * weight).view(shape)
        # This process's own share of the affine gradients: DDP averages
        # them like every other parameter's.
        return (dx, (sums_l[c:] * invstd.double()).to(dy.dtype), sums_l[:c].to(dy.dtype),
                None, None, None, None, None)


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm1d/2d with the release's state-dict names; in training,
    synchronised across the processes of sync_group when it is set
    (--sync_bn 1). sync_group SINGLE (--sync_bn 1 on one process) computes
    alone in the same arithmetic, so that runs on any number of processes
    agree to float rounding."""
    sync_group = None

    def _check_input_dim(self, x):
        if x.dim() not in (2, 3, 4):
            raise ValueError('batch norm expects 2D, 3D or 4D input, got %dD' % x.dim())

    def forward(self, x):
        group = self.sync_group
        if not self.training or group is None:
            return super().forward(x)
        self.num_batches_tracked.add_(1)
        return _SyncStats.apply(x, self.weight, self.bias, self.running_mean, self.running_var,
                                self.eps, self.momentum, group)


def sync_batch_norms(module, group):
    """Makes every batch norm of module synchronise over group (SINGLE:
    one process)."""
    for m in module.modules():
        if isinstance(m, BatchNorm):
            m.sync_group = group


def norm2d(kind, c):
    if kind == 'batch':
        return BatchNorm(c)
    if kind == 'instance':
        return nn.InstanceNorm2d(c)  # no affine weights, no running statistics, as the release's
    return None


# ------------------------------------------------------------------ generator

def build_mlp(dims, batch_norm='none'):
    """The release's build_mlp: Linear, [BatchNorm1d], ReLU for every pair,
    the last included (spec 2.1)."""
    layers = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers.append(nn.Linear(a, b))
        if batch_norm == 'batch':
            layers.append(BatchNorm(b))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _kaiming(module):
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.kaiming_normal_(module.weight)


class GraphTripleConv(nn.Module):
    """One graph convolution layer (spec 2.3)."""

    def __init__(self, din, dout, hidden, pooling='avg', mlp_normalization='none'):
        super().__init__()
        self.hidden, self.dout, self.pooling = hidden, dout, pooling
        self.net1 = build_mlp([3 * din, hidden, 2 * hidden + dout], mlp_normalization)
        self.net2 = build_mlp([hidden, hidden, dout], mlp_normalization)
        self.net1.apply(_kaiming)
        self.net2.apply(_kaiming)

    def forward(self, obj, pred, s, o):
        h, d = self.hidden, self.dout
        t = self.net1(torch.cat([obj[s], pred, obj[o]], 1))
        pooled = obj.new_zeros(obj.shape[0], h).index_add(0, s, t[:, :h]).index_add(0, o, t[:, h + d:])
        if self.pooling == 'avg':
            ones = obj.new_ones(s.shape[0])
            count = obj.new_zeros(obj.shape[0]).index_add(0, s, ones).index_add(0, o, ones)
            pooled = pooled / count.clamp(min=1).view(-1, 1)
        return self.net2(pooled), t[:, h:h + d]


class GraphTripleConvNet(nn.Module):
    def __init__(self, dim, layers, hidden, pooling, mlp_normalization):
        super().__init__()
        self.gconvs = nn.ModuleList([GraphTripleConv(dim, dim, hidden, pooling, mlp_normalization)
                                     for _ in range(layers)])

    def forward(self, obj, pred, s, o):
        for g in self.gconvs:
            obj, pred = g(obj, pred, s, o)
        return obj, pred


class RefinementModule(nn.Module):
    def __init__(self, layout_dim, cin, cout, normalization, slope):
        super().__init__()
        layers = [nn.Conv2d(layout_dim + cin, cout, 3, padding=1), norm2d(normalization, cout), nn.LeakyReLU(slope),
                  nn.Conv2d(cout, cout, 3, padding=1), norm2d(normalization, cout), nn.LeakyReLU(slope)]
        self.net = nn.Sequential(*[m for m in layers if m is not None])
        self.net.apply(lambda m: nn.init.kaiming_normal_(m.weight) if isinstance(m, nn.Conv2d) else None)

    def forward(self, layout, feats):
        f = layout.shape[2] // feats.shape[2]
        if f > 1:
            layout = F.avg_pool2d(layout, kernel_size=f, stride=f)
        return self.net(torch.cat([layout, feats], 1))


class RefinementNetwork(nn.Module):
    """The cascaded refinement network (spec 2.6)."""

    def __init__(self, dims, normalization, slope):
        super().__init__()
        self.refinement_modules = nn.ModuleList(
            [RefinementModule(dims[0], 1 if i == 1 else dims[i - 1], dims[i], normalization, slope)
             for i in range(1, len(dims))])
        self.output_conv = nn.Sequential(nn.Conv2d(dims[-1], dims[-1], 3, padding=1), nn.LeakyReLU(slope),
                                         nn.Conv2d(dims[-1], 3, 1))
        nn.init.kaiming_normal_(self.output_conv[0].weight)
        nn.init.kaiming_normal_(self.output_conv[2].weight)

    def forward(self, layout):
        n, _, h, w = layout.shape
        k = len(self.refinement_modules)
        feats = layout.new_zeros(n, 1, h >> k, w >> k)
        for mod in self.refinement_modules:
            feats = F.interpolate(feats, scale_factor=2, mode='nearest')
            feats = mod(layout, feats)
        return self.output_conv(feats)


def box_grid(boxes, H, W):
    """Each output pixel in each box's [-1, 1] coordinates, (O, H, W, 2)
    (spec 2.5); boxes narrower than a pixel are widened to one."""
    O = boxes.shape[0]
    x0, y0 = boxes[:, 0].view(O, 1, 1), boxes[:, 1].view(O, 1, 1)
    ww, hh = (boxes[:, 2] - boxes[:, 0]).view(O, 1, 1), (boxes[:, 3] - boxes[:, 1]).view(O, 1, 1)
    ww = torch.where(ww >= 1 / W, ww, torch.full_like(ww, 1 / W))
    hh = torch.where(hh >= 1 / H, hh, torch.full_like(hh, 1 / H))
    X = torch.linspace(0, 1, W, device=boxes.device).view(1, 1, W)
    Y = torch.linspace(0, 1, H, device=boxes.device).view(1, H, 1)
    X = ((X - x0) / ww).expand(O, H, W)
    Y = ((Y - y0) / hh).expand(O, H, W)
    return torch.stack([X, Y], 3).mul(2).sub(1)


def scene_layout(vecs, boxes, masks, obj_to_img, N, H, W):
    """Paints each object's vector into its box, shaped by its mask (or an
    8x8 block of ones without masks), and sums each image's objects:
    (N, D, H, W). Sampling the one-channel masks and then scaling by the
    vectors is the release's grid_sample of vec*mask, since bilinear
    sampling is linear, at a D-th of the work."""
    O, D = vecs.shape
    src = masks.view(O, 1, masks.shape[1], masks.shape[2]) if masks is not None else vecs.new_ones(O, 1, 8, 8)
    planes = F.grid_sample(src.to(vecs.dtype), box_grid(boxes, H, W), align_corners=True).view(O, H * W)
    # One (D x O_n) @ (O_n x HW) product per image, over its objects.
    if obj_to_img.numel() > 1 and bool((obj_to_img[1:] < obj_to_img[:-1]).any()):
        order = torch.sort(obj_to_img, stable=True).indices
        vecs, planes, obj_to_img = vecs[order], planes[order], obj_to_img[order]
    counts = torch.bincount(obj_to_img, minlength=N).tolist()
    layout = vecs.new_zeros(N, D, H * W)
    for n, (v, pl) in enumerate(zip(vecs.split(counts), planes.split(counts))):
        if v.shape[0]:
            layout[n] = v.t() @ pl
    return layout.view(N, D, H, W)


APPEARANCE_CROP, APPEARANCE_WIDTHS = 16, (32, 64)


class AppearanceEncoder(nn.Module):
    """Go's appearance encoder (model/appearance.go): a 16x16 crop of each
    object from the real images (crop_boxes, as d_obj crops), two stride-2
    3x3 convolutions of 32 and 64 channels with LeakyReLU(0.2), a global
    average and a Linear to the mean and log-variance of z, (O, A) each."""

    def __init__(self, A):
        super().__init__()
        c1, c2 = APPEARANCE_WIDTHS
        self.dim = A
        self.conv1 = nn.Conv2d(3, c1, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.fc = nn.Linear(c2, 2 * A)

    def forward(self, imgs, boxes, obj_to_img):
        x = crop_boxes(imgs, boxes, obj_to_img, APPEARANCE_CROP)
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.conv2(x), 0.2)
        x = self.fc(x.mean((2, 3)))
        return x[:, :self.dim], x[:, self.dim:]


def reparameterize(mu, logvar, eps):
    """The VAE's sample mu + exp(logvar / 2) * eps (Go's nn.Reparameterize)."""
    return mu + torch.exp(logvar / 2) * eps


def kl_std_normal(mu, logvar):
    """Each row's KL divergence of N(mu, exp(logvar)) from N(0, I), summed
    over its A entries: (O,). Go's nn.KLStdNormal is its mean over rows."""
    return (-(1 + logvar - mu * mu - logvar.exp()) / 2).sum(1)


def instance_index(objs, obj_to_img, boxes, k):
    """Go's model.InstanceIndex: each object's rank among the objects of its
    category in its image, capped at k-1. With boxes (O, 4) the rank follows
    the boxes' centres from left to right (training: the true boxes say
    which instance is which; ties keep graph order); without, graph order."""
    O = objs.shape[0]
    order = torch.arange(O, device=objs.device)
    if boxes is not None:
        order = torch.sort(boxes[:, 0] + boxes[:, 2], stable=True).indices  # float32, as Go's sum
    key = obj_to_img.long() * (int(objs.max().item()) + 1) + objs.long()
    order = order[torch.sort(key[order], stable=True).indices]
    _, counts = torch.unique_consecutive(key[order], return_counts=True)
    starts = (torch.cumsum(counts, 0) - counts).repeat_interleave(counts)
    rank = torch.arange(O, device=objs.device) - starts
    idx = torch.empty_like(rank)
    idx[order] = rank.clamp(max=k - 1)
    return idx


class Generator(nn.Module):
    """The release's Sg2ImModel (spec 2), built from model_kwargs, with this
    program's options (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__()
        kw, self.warnings = check_kwargs(kwargs)
        self.kwargs = kw
        vocab = kw['vocab']
        E, D, Hd, L = kw['embedding_dim'], kw['gconv_dim'], kw['gconv_hidden_dim'], kw['gconv_num_layers']
        self.image_size = tuple(kw['image_size'])
        self.mask_size = kw['mask_size'] or 0
        self.layout_noise_dim = kw['layout_noise_dim'] or 0
        self.appearance_dim = kw.get('appearance_dim', 0)
        self.appearance_scale = float(kw.get('appearance_scale', 0)) or 1.0
        self.box_sigmoid = bool(kw.get('box_sigmoid', False))
        self.instance_embeddings = kw.get('instance_embeddings', 0)
        num_objs, num_preds = len(vocab['object_idx_to_name']), len(vocab['pred_idx_to_name'])
        mlp_norm = kw['mlp_normalization']
        self.obj_embeddings = nn.Embedding(num_objs + 1, E)
        self.pred_embeddings = nn.Embedding(num_preds, E)
        if L == 0:
            self.gconv = nn.Linear(E, D)
        else:
            self.gconv = GraphTripleConv(E, D, Hd, kw['gconv_pooling'], mlp_norm)
        self.gconv_net = GraphTripleConvNet(D, L - 1, Hd, kw['gconv_pooling'], mlp_norm) if L > 1 else None
        self.box_net = build_mlp([D, Hd, 4], mlp_norm)
        if self.box_sigmoid:
            self.box_net[-1] = nn.Sigmoid()  # in place of the last ReLU: no parameters, the same names
        self.mask_net = None
        if self.mask_size > 0:
            steps = int(round(math.log2(self.mask_size)))
            if 1 << steps != self.mask_size:
                raise ValueError('mask_size %d: want a power of two' % self.mask_size)
            layers = []
            for _ in range(steps):
                layers += [nn.Upsample(scale_factor=2, mode='nearest'), BatchNorm(D), nn.Conv2d(D, D, 3, padding=1),
                           nn.ReLU()]
            self.mask_net = nn.Sequential(*layers, nn.Conv2d(D, 1, 1))
        self.rel_aux_net = build_mlp([2 * E + 8, Hd, num_preds], mlp_norm)
        dims = (D + self.appearance_dim + self.layout_noise_dim,) + tuple(kw['refinement_dims'])
        self.refinement_net = RefinementNetwork(dims, kw['normalization'], leaky_slope(kw['activation']))
        # This program's options come after the release's modules, so that
        # a model without them draws the same initial weights as before.
        self.instance_embed = None
        if self.instance_embeddings > 0:
            self.instance_embed = nn.Embedding(self.instance_embeddings, E)
            # Go's InitRandom: uniform in +-1/sqrt(E), as its other
            # non-Kaiming weights (its N(0, 1) is for the *_embeddings).
            nn.init.uniform_(self.instance_embed.weight, -1 / math.sqrt(E), 1 / math.sqrt(E))
        self.appearance_encoder = AppearanceEncoder(self.appearance_dim) if self.appearance_dim > 0 else None

    def set_box_bias(self, b):
        """Go's Generator.SetBoxBias: the bias of the box net's last Linear;
        with box_sigmoid its logit (b clamped to [1e-3, 1-1e-3]), so that the
        initial boxes are b, in Go's float32 and float64 steps."""
        vals = []
        for v in b:
            v = float(torch.tensor(v, dtype=torch.float32))
            if self.box_sigmoid:
                v32 = torch.tensor(v, dtype=torch.float32).clamp(1e-3, 1 - 1e-3)
                one_minus = float(torch.tensor(1, dtype=torch.float32) - v32)
                v = math.log(float(v32) / one_minus)
            vals.append(v)
        last = [m for m in self.box_net if isinstance(m, nn.Linear)][-1]
        with torch.no_grad():
            last.bias.copy_(torch.tensor(vals, dtype=torch.float32))

    def forward(self, objs, triples, obj_to_img, boxes_gt=None, masks_gt=None, noise=None, aux_grad=True,
                rel_grad=True, instances=None, appearance=None, imgs_gt=None, eps=None):
        """Returns (img, boxes_pred, masks_pred, rel_scores), and (mu, logvar)
        fifth when imgs_gt is given to a model with appearance vectors.

        noise, when given, is the layout noise (N, Z, H, W), else drawn.
        aux_grad=False computes the mask net, rel_grad=False the relation
        head, without gradient (when their outputs feed no training loss;
        batch norms still update their running statistics), so that DDP sees
        their parameters as unused instead of waiting for their gradients.

        instances (O,): the objects' instance indices (instance_index), by
        default the graph's order (inference). Appearance vectors: with
        imgs_gt (N, 3, H, W), the real images, they are encoded from the
        crops at boxes_gt and sampled with eps (O, A) (drawn when None), as
        Go's trainer does; else appearance (O, A) as given; else drawn
        N(0, appearance_scale^2)."""
        N = int(obj_to_img.max().item()) + 1 if noise is None else noise.shape[0]
        s, p, o = triples[:, 0], triples[:, 1], triples[:, 2]
        obj = self.obj_embeddings(objs)
        emb = obj
        if self.instance_embed is not None:
            if instances is None:
                instances = instance_index(objs, obj_to_img, None, self.instance_embeddings)
            obj = obj + self.instance_embed(instances)
        pred = self.pred_embeddings(p)
        if isinstance(self.gconv, nn.Linear):
            obj = self.gconv(obj)
        else:
            obj, pred = self.gconv(obj, pred, s, o)
        if self.gconv_net is not None:
            obj, pred = self.gconv_net(obj, pred, s, o)
        boxes_pred = self.box_net(obj)
        masks_pred = None
        grad = torch.is_grad_enabled()
        with torch.set_grad_enabled(aux_grad and grad):
            if self.mask_net is not None:
                masks_pred = self.mask_net(obj.view(obj.shape[0], -1, 1, 1)).squeeze(1).sigmoid()
        # The relation head feeds no training loss of the release's.
        with torch.set_grad_enabled(rel_grad and grad):
            rel_scores = self.rel_aux_net(torch.cat([boxes_pred[s], boxes_pred[o], emb[s], emb[o]], 1))
        H, W = self.image_size
        boxes = boxes_pred if boxes_gt is None else boxes_gt
        masks = None
        if self.mask_net is not None:
            masks = masks_pred if masks_gt is None else masks_gt
        vecs, encoded = obj, None
        if appearance is not None and tuple(appearance.shape) != (obj.shape[0], self.appearance_dim):
            raise ValueError('appearance vectors of shape %s, want (%d, %d): one per object, __image__ objects'
                             ' included%s' % (tuple(appearance.shape), obj.shape[0], self.appearance_dim,
                                              '' if self.appearance_dim else ' (this model has none: give none)'))
        if self.appearance_encoder is not None:
            if imgs_gt is not None:
                if boxes_gt is None:
                    raise ValueError('appearance vectors are encoded from the real images at the true boxes: '
                                     'give boxes_gt with imgs_gt')
                encoded = self.appearance_encoder(imgs_gt, boxes_gt, obj_to_img)
                mu, logvar = encoded
                appearance = reparameterize(mu, logvar, torch.randn_like(mu) if eps is None else eps)
            elif appearance is None:
                appearance = torch.randn(obj.shape[0], self.appearance_dim, device=obj.device, dtype=obj.dtype)
                if self.appearance_scale != 1:
                    appearance = appearance * self.appearance_scale
            vecs = torch.cat([obj, appearance.to(obj.dtype)], 1)
        layout = scene_layout(vecs, boxes, masks, obj_to_img, N, H, W)
        if self.layout_noise_dim > 0:
            if noise is None:
                noise = torch.randn(N, self.layout_noise_dim, H, W, device=layout.device, dtype=layout.dtype)
            layout = torch.cat([layout, noise], 1)
        out = (self.refinement_net(layout), boxes_pred, masks_pred, rel_scores)
        return out + (encoded,) if encoded is not None else out


# ------------------------------------------------------------- discriminators

D_KWARGS = {'arch', 'normalization', 'activation', 'padding', 'object_size', 'vocab'}


def build_cnn(arch, normalization='batch', activation='leakyrelu-0.2', padding='same'):
    """The release's build_cnn for "CK-C-S" entries: every conv but the
    first after a norm and an activation (spec 3)."""
    slope = leaky_slope(activation)
    layers, c = [], 3
    for i, spec in enumerate(arch.split(',')):
        spec = spec.strip()
        vals = spec[1:].split('-')
        if not spec.startswith('C') or len(vals) not in (2, 3):
            raise ValueError('arch entry %r: want CK-C or CK-C-S, e.g. C4-64-2' % spec)
        k, cout, stride = (int(v) for v in vals + ['1'] * (3 - len(vals)))
        if i > 0:
            layers += [m for m in (norm2d(normalization, c), nn.LeakyReLU(slope)) if m is not None]
        pad = (k - 1) // 2 if padding == 'same' else 0
        layers.append(nn.Conv2d(c, cout, k, stride=stride, padding=pad))
        c = cout
    return nn.Sequential(*layers), c


def _d_kwargs(kwargs, what):
    extra = sorted(k for k in kwargs if k not in D_KWARGS)
    if extra:
        raise UnsupportedOption('%s option(s) %s are not supported by the PyTorch trainer' % (what, ', '.join(extra)))
    kw = dict(normalization='batch', activation='leakyrelu-0.2', padding='valid')
    kw.update({k: v for k, v in kwargs.items() if k not in ('vocab', 'object_size')})
    return kw


class PatchDiscriminator(nn.Module):
    """d_img: its CNN's output map is the real/fake scores; the 1x1
    classifier is in the state dict but unused, as in the release."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = dict(kwargs)
        self.cnn, c = build_cnn(**_d_kwargs(kwargs, 'd_img'))
        self.classifier = nn.Conv2d(c, 1, 1)

    def forward(self, x):
        return self.cnn(x)


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean((2, 3))


class AcDiscriminator(nn.Module):
    def __init__(self, num_objects, **cnn_kwargs):
        super().__init__()
        cnn, c = build_cnn(**cnn_kwargs)
        self.cnn = nn.Sequential(cnn, GlobalAvgPool(), nn.Linear(c, 1024))
        self.real_classifier = nn.Linear(1024, 1)
        self.obj_classifier = nn.Linear(1024, num_objects)

    def forward(self, x):
        vecs = self.cnn(x)
        return self.real_classifier(vecs), self.obj_classifier(vecs)


def crop_boxes(imgs, boxes, obj_to_img, S):
    """An S x S bilinear crop of every box from its image, the grid
    linspace(x0, x1, S) by linspace(y0, y1, S) in [-1, 1] (spec 3)."""
    O = boxes.shape[0]
    b = 2 * boxes - 1
    w1 = torch.linspace(1, 0, S, device=boxes.device).view(1, S)
    w2 = torch.linspace(0, 1, S, device=boxes.device).view(1, S)
    xs = w1 * b[:, 0:1] + w2 * b[:, 2:3]
    ys = w1 * b[:, 1:2] + w2 * b[:, 3:4]
    grid = torch.stack([xs.view(O, 1, S).expand(O, S, S), ys.view(O, S, 1).expand(O, S, S)], 3)
    return F.grid_sample(imgs[obj_to_img], grid, align_corners=True)


class AcCropDiscriminator(nn.Module):
    """d_obj: crops every object and returns its real/fake score (O, 1) and
    the object-class logits (O, num_objects); the release's auxiliary loss
    is their cross-entropy against the object ids."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = dict(kwargs)
        vocab = kwargs.get('vocab')
        if vocab is None:
            raise ValueError('d_obj_kwargs has no vocab')
        self.object_size = int(kwargs.get('object_size', 64))
        self.discriminator = AcDiscriminator(len(vocab['object_idx_to_name']), **_d_kwargs(kwargs, 'd_obj'))

    def forward(self, imgs, objs, boxes, obj_to_img):
        return self.discriminator(crop_boxes(imgs, boxes, obj_to_img, self.object_size))


# ------------------------------------------------------------- state dicts

def load_state(module, state, what):
    """Loads a state dict strictly, naming every missing, unexpected or
    mis-shaped tensor; num_batches_tracked may be absent (PyTorch 0.4)."""
    own = module.state_dict()
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    missing = [k for k in own if k not in state and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in state if k not in own]
    shapes = ['%s %s (want %s)' % (k, tuple(v.shape), tuple(own[k].shape)) for k, v in state.items()
              if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        for name, items in (('missing', missing), ('unexpected', unexpected), ('mis-shaped', shapes)):
            if items:
                parts.append('%s: %s' % (name, ', '.join(items)))
        raise ValueError('%s does not match its kwargs: %s' % (what, '; '.join(parts)))
    with torch.no_grad():
        for k, v in state.items():
            own[k].copy_(v.to(own[k].dtype))


def kwargs_json(kwargs):
    return json.dumps(kwargs, separators=(',', ':'))
