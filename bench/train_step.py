"""PyTorch CPU yardstick for one sg2im training iteration, the same work as
the Go benchmark BenchmarkTrainStep_B8_64x64[_Quarter] (train/bench_test.go):

- generator (docs/SG2IM_SPEC.md section 2) in train mode on a synthetic batch
  of 8 64x64 images, each with 6 objects plus __image__ and 12 triples (each
  object related to the next, and __in_image__), laid out with the
  ground-truth boxes and all-ones 16x16 masks;
- losses L1 pixel, bbox MSE, ac and the two GAN losses (mask loss weight 0,
  as the benchmark), backward, Adam on the generator;
- d_obj on detached fakes and reals (BCE + ac losses), backward, Adam;
- d_img on detached fakes and reals, backward, Adam.

  python3 bench/train_step.py --config release|quarter --threads 2 --reps 5

It prints the parameter counts (they must equal those the Go benchmark
logs), one line per timed step, then `median_ms=<float> min_ms=<float>`.

--layout paint (default) builds the scene layout as the Go code does:
grid_sample of the 1-channel masks, then each image's sum of
vec (x) plane as one matrix product. --layout release samples the D-channel
vec * mask sources as the release does (more work, same result).

Like ../shared/bench/torch_anchor.py it re-executes itself with glibc's
malloc thresholds raised, so that page faults do not dominate.
"""
import argparse, math, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

MALLOC_ENV = {'MALLOC_MMAP_THRESHOLD_': '4294967296', 'MALLOC_TRIM_THRESHOLD_': '4294967296',
              'MALLOC_TOP_PAD_': '1073741824'}

# train.DefaultConfig() and train/bench_test.go's quarterConfig().
CONFIGS = {
    'release': dict(E=128, D=128, Hd=512, L=5, crn=(1024, 512, 256, 128, 64),
                    d_arch='C4-64-2,C4-128-2,C4-256-2'),
    'quarter': dict(E=32, D=32, Hd=128, L=5, crn=(256, 128, 64, 32, 16),
                    d_arch='C4-16-2,C4-32-2,C4-64-2'),
}
N, H, W, M, Z, CROP, SLOPE = 8, 64, 64, 16, 32, 32, 0.2
OBJECTS, PER_IMAGE = 6, 7          # real objects per image, plus __image__
NUM_OBJ, NUM_PRED = 21, 7          # NewVocab of 20 names + __image__; 6 preds + __in_image__


def mlp(dims):
    # The release's build_mlp without normalisation: a ReLU after every Linear.
    layers = []
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class TripleConv(nn.Module):
    def __init__(self, din, dout, hd):
        super().__init__()
        self.h, self.d = hd, dout
        self.net1 = mlp([3 * din, hd, 2 * hd + dout])
        self.net2 = mlp([hd, hd, dout])

    def forward(self, obj, pred, s, o, inv_count):
        t = self.net1(torch.cat([obj[s], pred, obj[o]], 1))
        h, d = self.h, self.d
        pooled = torch.zeros(obj.size(0), h).index_add(0, s, t[:, :h]).index_add(0, o, t[:, h + d:])
        return self.net2(pooled * inv_count), t[:, h:h + d]


class Generator(nn.Module):
    def __init__(self, E, D, Hd, L, crn, layout, **_):
        super().__init__()
        self.layout = layout
        self.obj_embeddings = nn.Embedding(NUM_OBJ + 1, E)
        self.pred_embeddings = nn.Embedding(NUM_PRED, E)
        self.gconvs = nn.ModuleList([TripleConv(E, D, Hd)] + [TripleConv(D, D, Hd) for _ in range(L - 1)])
        self.box_net = mlp([D, Hd, 4])
        layers = []
        for _ in range(int(math.log2(M))):
            layers += [nn.Upsample(scale_factor=2, mode='nearest'), nn.BatchNorm2d(D),
                       nn.Conv2d(D, D, 3, padding=1), nn.ReLU()]
        self.mask_net = nn.Sequential(*layers, nn.Conv2d(D, 1, 1))
        self.rel_aux_net = mlp([2 * E + 8, Hd, NUM_PRED])
        dims = (D + Z,) + tuple(crn)
        self.mods = nn.ModuleList()
        for i in range(1, len(dims)):
            cin = dims[0] + (1 if i == 1 else dims[i - 1])
            self.mods.append(nn.Sequential(
                nn.Conv2d(cin, dims[i], 3, padding=1), nn.BatchNorm2d(dims[i]), nn.LeakyReLU(SLOPE),
                nn.Conv2d(dims[i], dims[i], 3, padding=1), nn.BatchNorm2d(dims[i]), nn.LeakyReLU(SLOPE)))
        self.output_conv = nn.Sequential(nn.Conv2d(dims[-1], dims[-1], 3, padding=1), nn.LeakyReLU(SLOPE),
                                         nn.Conv2d(dims[-1], 3, 1))

    def forward(self, b):
        s, p, o = b['triples'].unbind(1)
        emb = self.obj_embeddings(b['objs'])
        obj, pred = emb, self.pred_embeddings(p)
        for g in self.gconvs:
            obj, pred = g(obj, pred, s, o, b['inv_count'])
        boxes_pred = self.box_net(obj)
        O, D = obj.shape
        masks_pred = self.mask_net(obj.view(O, D, 1, 1)).squeeze(1).sigmoid()  # unused by the losses, as in Go
        self.rel_aux_net(torch.cat([boxes_pred[s], boxes_pred[o], emb[s], emb[o]], 1))  # likewise
        # Layout from the ground-truth boxes and masks.
        x0, y0, x1, y1 = [b['boxes'][:, i].view(O, 1, 1) for i in range(4)]
        gx = ((torch.linspace(0, 1, W).view(1, 1, W) - x0) / (x1 - x0)).expand(O, H, W)
        gy = ((torch.linspace(0, 1, H).view(1, H, 1) - y0) / (y1 - y0)).expand(O, H, W)
        grid = torch.stack([gx, gy], 3) * 2 - 1
        masks = b['masks'].view(O, 1, M, M)
        if self.layout == 'release':
            painted = F.grid_sample(obj.view(O, D, 1, 1) * masks, grid, align_corners=True)
            layout = torch.zeros(N, D, H, W).index_add(0, b['obj_to_img'], painted)
        else:
            planes = F.grid_sample(masks, grid, align_corners=True)  # (O, 1, H, W), no gradient
            layout = torch.bmm(obj.view(N, PER_IMAGE, D).transpose(1, 2),
                               planes.view(N, PER_IMAGE, H * W)).view(N, D, H, W)
        layout = torch.cat([layout, torch.randn(N, Z, H, W)], 1)
        feats = torch.zeros(N, 1, H >> len(self.mods), W >> len(self.mods))
        for m in self.mods:
            feats = F.interpolate(feats, scale_factor=2, mode='nearest')
            f = H // feats.shape[2]
            lay = F.avg_pool2d(layout, f, f) if f > 1 else layout
            feats = m(torch.cat([lay, feats], 1))
        return self.output_conv(feats), boxes_pred, masks_pred


def build_cnn(arch):
    # build_cnn with valid padding: every conv but the first after BN + LeakyReLU.
    layers, cin = [], 3
    for i, spec in enumerate(arch.split(',')):
        k, c, st = map(int, spec[1:].split('-'))
        if i > 0:
            layers += [nn.BatchNorm2d(cin), nn.LeakyReLU(SLOPE)]
        layers.append(nn.Conv2d(cin, c, k, stride=st))
        cin = c
    return nn.Sequential(*layers), cin


class DImg(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.cnn, c = build_cnn(arch)
        self.classifier = nn.Conv2d(c, 1, 1)  # never used in forward, as in the release

    def forward(self, img):
        return self.cnn(img)


class DObj(nn.Module):
    def __init__(self, arch):
        super().__init__()
        self.cnn, c = build_cnn(arch)
        self.fc = nn.Linear(c, 1024)
        self.real_classifier = nn.Linear(1024, 1)
        self.obj_classifier = nn.Linear(1024, NUM_OBJ)

    def forward(self, img, b):
        O = b['boxes'].size(0)
        t = torch.linspace(0, 1, CROP)
        x0, y0, x1, y1 = (2 * b['boxes'] - 1).unbind(1)
        xs = x0[:, None] * (1 - t) + x1[:, None] * t
        ys = y0[:, None] * (1 - t) + y1[:, None] * t
        grid = torch.stack([xs[:, None, :].expand(O, CROP, CROP), ys[:, :, None].expand(O, CROP, CROP)], 3)
        crops = F.grid_sample(img[b['obj_to_img']], grid, align_corners=True)
        vecs = self.fc(self.cnn(crops).mean((2, 3)))
        return self.real_classifier(vecs), F.cross_entropy(self.obj_classifier(vecs), b['objs'])


def synthetic_batch():
    # train/bench_test.go's syntheticStep, drawn with torch's generator.
    g = torch.Generator().manual_seed(1)
    objs, boxes, triples = [], [], []
    for img in range(N):
        base = img * PER_IMAGE
        for k in range(PER_IMAGE):
            o = base + k
            if k == OBJECTS:
                objs.append(0)
                boxes.append([0, 0, 1, 1])
                continue
            objs.append(1 + int(torch.randint(NUM_OBJ - 1, (1,), generator=g)))
            x, y, w, h = torch.rand(4, generator=g).tolist()
            x, y = 0.6 * x, 0.6 * y
            boxes.append([x, y, x + 0.1 + 0.3 * w, y + 0.1 + 0.3 * h])
            triples.append([o, 1 + int(torch.randint(NUM_PRED - 1, (1,), generator=g)), base + (k + 1) % OBJECTS])
            triples.append([o, 0, base + OBJECTS])
    triples = torch.tensor(triples)
    O = N * PER_IMAGE
    count = torch.zeros(O).index_add(0, triples[:, 0], torch.ones(len(triples)))
    count.index_add_(0, triples[:, 2], torch.ones(len(triples)))
    return dict(objs=torch.tensor(objs), boxes=torch.tensor(boxes), triples=triples,
                obj_to_img=torch.arange(N).repeat_interleave(PER_IMAGE),
                inv_count=(1 / count.clamp(min=1))[:, None], masks=torch.ones(O, M, M),
                images=torch.randn(N, 3, H, W, generator=g))


def train_step(G, d_obj, d_img, opts, b):
    opt_g, opt_obj, opt_img = opts
    real = b['images']
    img, boxes_pred, _ = G(b)
    scores_obj, ac = d_obj(img, b)
    scores_img = d_img(img)
    bce = F.binary_cross_entropy_with_logits
    total = (F.l1_loss(img, real) + 10 * F.mse_loss(boxes_pred, b['boxes']) + 0.1 * ac
             + 0.01 * bce(scores_obj, torch.ones_like(scores_obj))
             + 0.01 * bce(scores_img, torch.ones_like(scores_img)))
    if not torch.isfinite(total):
        raise SystemExit('non-finite generator loss')
    # As model.Trainer.Step: every gradient cleared once, before this backward.
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    total.backward()
    opt_g.step()
    fake = img.detach()
    sf, ac_fake = d_obj(fake, b)
    sr, ac_real = d_obj(real, b)
    (bce(sr, torch.ones_like(sr)) + bce(sf, torch.zeros_like(sf)) + ac_real + ac_fake).backward()
    opt_obj.step()
    sf, sr = d_img(fake), d_img(real)
    (bce(sr, torch.ones_like(sr)) + bce(sf, torch.zeros_like(sf))).backward()
    opt_img.step()


def count(m):
    return sum(p.numel() for p in m.parameters())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='release', choices=sorted(CONFIGS))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--layout', default='paint', choices=['paint', 'release'])
    a = ap.parse_args()
    if any(k not in os.environ for k in MALLOC_ENV):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[a.config]
    G = Generator(layout=a.layout, **cfg).train()
    d_obj, d_img = DObj(cfg['d_arch']).train(), DImg(cfg['d_arch']).train()
    opts = [torch.optim.Adam(m.parameters(), lr=1e-4) for m in (G, d_obj, d_img)]
    b = synthetic_batch()
    print('config=%s threads=%d layout=%s torch=%s' % (a.config, a.threads, a.layout, torch.__version__))
    print('params: generator=%d d_obj=%d d_img=%d' % (count(G), count(d_obj), count(d_img)))
    for _ in range(a.warmup):
        train_step(G, d_obj, d_img, opts, b)
    ts = []
    for i in range(a.reps):
        t = time.perf_counter()
        train_step(G, d_obj, d_img, opts, b)
        ts.append(1e3 * (time.perf_counter() - t))
        print('rep %d: %.1f ms' % (i + 1, ts[-1]))
    ts.sort()
    print('median_ms=%.1f min_ms=%.1f' % (ts[len(ts) // 2], ts[0]))


if __name__ == '__main__':
    main()
