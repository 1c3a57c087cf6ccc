"""PyTorch CPU yardstick for one sg2im training iteration, the same work as
the Go benchmark BenchmarkTrainStep_B8_64x64[_Quarter|_Demo|_Demo1] (train/bench_test.go):

- generator (docs/SG2IM_SPEC.md section 2) in train mode on a synthetic batch
  of 8 64x64 images, each with 6 objects plus __image__ and 12 triples (each
  object related to the next, and __in_image__), laid out with the
  ground-truth boxes and all-ones 16x16 masks;
- losses L1 pixel, bbox MSE, ac and the two GAN losses (mask loss weight 0,
  as the benchmark; 1 in the demo configurations, as `make train-demo`),
  backward, Adam on the generator;
- in the demo configuration, `make train-demo`'s second recipe: appearance
  vectors encoded from the real crops (sampled with fresh draws each step)
  and their KL term, sigmoid boxes with their bias init, instance
  embeddings from the true boxes; demo1 is the first recipe's widths,
  without them;
- d_obj on detached fakes and reals (BCE + ac losses), backward, Adam;
- d_img on detached fakes and reals, backward, Adam.

  python3 bench/train_step.py --config release|quarter|demo|demo1 --threads 2 --reps 5

It prints the parameter counts (they must equal those the Go benchmark
logs), one line per timed step, then `median_ms=<float> min_ms=<float>
peak_mib=<float>` (the process's peak resident memory, ru_maxrss).

The networks and the step are pytorch/model.py's and pytorch/trainer.py's
(the PyTorch trainer's): the scene layout is painted as the Go code does,
grid_sample of the 1-channel masks, then each image's sum of vec (x) plane
as one matrix product (the release samples D-channel vec * mask sources:
more work, the same result).

Like ../shared/bench/torch_anchor.py it re-executes itself with glibc's
malloc thresholds raised, so that page faults do not dominate.
"""
import argparse
import os
import resource
import sys
import time
import types

import torch

MALLOC_ENV = {'MALLOC_MMAP_THRESHOLD_': '4294967296', 'MALLOC_TRIM_THRESHOLD_': '4294967296',
              'MALLOC_TOP_PAD_': '1073741824'}

# train.DefaultConfig() and train/bench_test.go's quarterConfig(),
# demoConfig() (the Makefile's train-demo flags) and demo1Config() (the
# first demo recipe's).
DEMO1 = dict(E=64, D=64, Hd=256, L=3, crn=(256, 128, 64, 32, 16), d_arch='C4-32-2,C4-64-2,C4-128-2', Z=16, lr=3e-4,
             mask_w=1.0)
CONFIGS = {
    'release': dict(E=128, D=128, Hd=512, L=5, crn=(1024, 512, 256, 128, 64),
                    d_arch='C4-64-2,C4-128-2,C4-256-2', Z=32, lr=1e-4, mask_w=0.0),
    'quarter': dict(E=32, D=32, Hd=128, L=5, crn=(256, 128, 64, 32, 16),
                    d_arch='C4-16-2,C4-32-2,C4-64-2', Z=32, lr=1e-4, mask_w=0.0),
    'demo': dict(DEMO1, Hd=128, crn=(128, 128, 64, 32, 16),
                 options=dict(appearance_dim=8, box_sigmoid=True, instance_embeddings=4), kl_w=0.01,
                 box_bias=(0.25, 0.25, 0.75, 0.75)),
    'demo1': DEMO1,
}
N, H, W, M_, CROP, SLOPE = 8, 64, 64, 16, 32, 0.2
OBJECTS, PER_IMAGE = 6, 7          # real objects per image, plus __image__
NUM_OBJ, NUM_PRED = 21, 7          # NewVocab of 20 names + __image__; 6 preds + __in_image__


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'pytorch'))
import model as M  # noqa: E402  (pytorch/model.py: the one PyTorch home of the networks)
import trainer  # noqa: E402

# NewVocab of 20 names + __image__, and 6 predicates + __in_image__.
VOCAB = {'object_idx_to_name': ['__image__'] + ['o%d' % i for i in range(1, NUM_OBJ)],
         'pred_idx_to_name': ['__in_image__'] + ['p%d' % i for i in range(1, NUM_PRED)]}
VOCAB['object_name_to_idx'] = {n: i for i, n in enumerate(VOCAB['object_idx_to_name'])}
VOCAB['pred_name_to_idx'] = {n: i for i, n in enumerate(VOCAB['pred_idx_to_name'])}


def networks(cfg):
    G = M.Generator(image_size=[H, W], embedding_dim=cfg['E'], gconv_dim=cfg['D'], gconv_hidden_dim=cfg['Hd'],
                    gconv_num_layers=cfg['L'], refinement_dims=list(cfg['crn']), normalization='batch',
                    activation='leakyrelu-%g' % SLOPE, mask_size=M_, mlp_normalization='none',
                    layout_noise_dim=cfg['Z'], vocab=VOCAB, **cfg.get('options', {}))
    if cfg.get('box_bias'):
        G.set_box_bias(cfg['box_bias'])
    d = dict(arch=cfg['d_arch'], normalization='batch', activation='leakyrelu-%g' % SLOPE, padding='valid')
    return G, M.AcCropDiscriminator(vocab=VOCAB, object_size=CROP, **d), M.PatchDiscriminator(**d)


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
    return dict(objs=torch.tensor(objs), boxes=torch.tensor(boxes), triples=triples,
                obj_to_img=torch.arange(N).repeat_interleave(PER_IMAGE),
                masks=torch.ones(O, M_, M_),
                imgs=torch.randn(N, 3, H, W, generator=g))


def count(m):
    return sum(p.numel() for p in m.parameters())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--config', default='release', choices=sorted(CONFIGS))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    a = ap.parse_args()
    if any(k not in os.environ for k in MALLOC_ENV):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = CONFIGS[a.config]
    G, d_obj, d_img = networks(cfg)
    opts = [torch.optim.Adam(m.parameters(), lr=cfg['lr']) for m in (G, d_obj, d_img)]
    args = types.SimpleNamespace(l1_pixel_loss_weight=1.0, bbox_pred_loss_weight=10.0, mask_loss_weight=cfg['mask_w'],
                                 ac_loss_weight=0.1, discriminator_loss_weight=0.01, d_obj_weight=1.0,
                                 d_img_weight=1.0, gan_loss_type='gan', appearance_kl_weight=cfg.get('kl_w', 0.0))
    step = trainer.Step(args, G, d_obj, d_img, *opts)
    b = synthetic_batch()
    print('config=%s threads=%d torch=%s' % (a.config, a.threads, torch.__version__))
    print('params: generator=%d d_obj=%d d_img=%d' % (count(G), count(d_obj), count(d_img)))
    for _ in range(a.warmup):
        step(b)
    ts = []
    for i in range(a.reps):
        t = time.perf_counter()
        step(b)
        ts.append(1e3 * (time.perf_counter() - t))
        print('rep %d: %.1f ms' % (i + 1, ts[-1]))
    ts.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print('median_ms=%.1f min_ms=%.1f peak_mib=%.0f' % (ts[len(ts) // 2], ts[0], peak))


if __name__ == '__main__':
    main()
