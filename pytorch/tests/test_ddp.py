"""Distributed training equals one process, and resuming equals not stopping.

  python3 test_ddp.py SHARDS_DIR WORK_DIR

1. 2 processes (torchrun, gloo) x batch 4 with --sync_bn 1 for 3 iterations
   against 1 process x batch 8: at every iteration the losses (1e-5) and the
   gradients of all three networks after DDP's averaging (1e-5 of the
   tensor's largest value; a bias that feeds a batch norm has a true
   gradient of zero, computed as float noise, so 1e-5 of its network's
   largest gradient there); at the end every parameter and running
   statistic (1e-5). The global batch is the same 8 images; SyncBatchNorm
   normalises over all 8; the losses divide by the global object and image
   counts; each image's layout noise and appearance draws come from its own
   (seed, t, example) streams. The generator has this program's options
   (appearance vectors and their KL term, sigmoid boxes, instance
   embeddings), as the shipped model's recipe.
   Both runs use --sync_bn 1, which on one process computes the batch
   statistics in the same arithmetic as across processes (float64 sums,
   PyTorch's formula). PyTorch's own batch norm agrees with it to float
   rounding (test_fixtures.py runs the release's step both ways), but a
   rounding difference, passed through the network's ReLU kinks, flips an
   activation here and there and moves a few gradients by 1e-4.
   The learning rate is 1e-7 here: Adam moves every weight by about lr
   whatever its gradient's size, so a gradient whose true value is zero
   (float noise in both runs, e.g. a bias feeding a batch norm) moves by
   +-lr with a random sign; at the release's 1e-4 that alone puts the runs
   2e-4 apart after one step, and they then follow slightly different
   weights. At 1e-7 such flips stay below 1e-6, and the gradients, compared
   directly, carry the test.
2. 1 process for 2 iterations, then --restore_from_checkpoint 1 to 3,
   gives exactly (bit for bit) the weights of the uninterrupted run.
Tiny widths keep it to seconds on two cores."""
import json
import os
import subprocess
import sys

import torch

from common import PYTORCH, Failures
import st

TINY = ['--embedding_dim', '16', '--gconv_dim', '16', '--gconv_hidden_dim', '32', '--gconv_num_layers', '2',
        '--refinement_network_dims', '32,16,8', '--layout_noise_dim', '4', '--d_obj_arch', 'C4-8-2,C4-16-2',
        '--d_img_arch', 'C4-8-2,C4-16-2', '--crop_size', '16', '--mask_loss_weight', '1',
        '--mlp_normalization', 'batch', '--print_every', '1', '--loader_num_workers', '0', '--threads', '1',
        '--seed', '7', '--learning_rate', '1e-7',
        # The shipped model's recipe: appearance vectors (encoded per
        # object, sampled with each image's own (seed, t, example) draws, a
        # KL term averaged over the global objects), sigmoid boxes, instance
        # embeddings (ranked within each image).
        '--appearance_dim', '4', '--appearance_kl_weight', '0.01', '--box_sigmoid', '1', '--instance_embeddings', '3']
TRAIN = os.path.join(PYTORCH, 'train.py')
# Debian's torch 1.13 under Python 3.11 cannot parse torchrun's default
# --redirects 0 (IntFlag iteration skips 0): redirect stdout to its log and
# tee it back, which parses.
TORCHRUN_FIX = ['--redirects', '1', '--tee', '1']
STEPS = 3


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout)
        sys.exit('FAIL: %s exited %d' % (' '.join(cmd[:4]), r.returncode))
    return r.stdout


def train(shards, out, extra, procs=1):
    args = [TRAIN, '--shards', shards, '--output_dir', out] + TINY + extra
    if procs == 1:
        return run([sys.executable] + args)
    return run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(procs)]
               + TORCHRUN_FIX + args)


def losses(out):
    with open(os.path.join(out, 'losses.jsonl')) as f:
        return [json.loads(line) for line in f]


def feeds_batch_norm(grads):
    """Biases whose next module is a batch norm (its weight follows)."""
    out = set()
    for k in grads:
        prefix, _, rest = k.rpartition('.')
        mod, _, idx = prefix.rpartition('.')
        if rest == 'bias' and idx.isdigit() and '%s.%d.weight' % (mod, int(idx) + 1) in grads \
                and grads['%s.%d.weight' % (mod, int(idx) + 1)].dim() == 1:
            out.add(k)
    return out


def compare_runs(one, two):
    f = Failures()
    l1, l2 = losses(one), losses(two)
    if len(l1) != STEPS or len(l2) != STEPS:
        f.errors.append('losses.jsonl: %d and %d records, want %d each' % (len(l1), len(l2), STEPS))
    for a, b in zip(l1, l2):
        for k, v in a.items():
            if k not in ('t', 'epoch', 'elapsed_s', 'time'):
                f.close('t=%d %s' % (a['t'], k), torch.tensor(b.get(k, float('nan'))), torch.tensor(v), 1e-5)
    noisy = set()
    for t in range(1, STEPS + 1):
        g1, _ = st.read(os.path.join(one, 'grads', 't%d.safetensors' % t))
        g2, _ = st.read(os.path.join(two, 'grads', 't%d.safetensors' % t))
        noisy = feeds_batch_norm(g1)
        # DDP gives unused parameters (the relation head, d_img's unused
        # classifier) zero gradients where one process leaves none.
        g2 = {k: v for k, v in g2.items() if k in g1 or v.abs().max() > 0}
        if set(g1) != set(g2):
            f.errors.append('t=%d: gradients of different parameters: %s' % (t, sorted(set(g1) ^ set(g2))))
        scale = {}
        for k, g in g1.items():
            net = k.split('.')[0]
            scale[net] = max(scale.get(net, 0.0), g.abs().max().item())
        for k in sorted(set(g1) & set(g2)):
            ref = scale[k.split('.')[0]] if k in noisy else g1[k].abs().max().item()
            f.close('t=%d grad %s' % (t, k), g2[k], g1[k], 1e-5 * ref)
    w1, _ = st.read(os.path.join(one, 'checkpoint.safetensors'))
    w2, _ = st.read(os.path.join(two, 'checkpoint.safetensors'))
    if set(w1) != set(w2):
        f.errors.append('tensor names differ: %s' % sorted(set(w1) ^ set(w2)))
    for k in sorted(set(w1) & set(w2)):
        f.close(k, w2[k], w1[k], 1e-5)
    print('     (biases feeding a batch norm, compared with 1e-5 of their network\'s largest gradient: %s)'
          % ', '.join(sorted(noisy)))
    f.done('2 processes x batch 4 (gloo, sync_bn) == 1 process x batch 8: losses, gradients, weights, %d iterations'
           % STEPS)
    return w1, l1


def main():
    shards, work = sys.argv[1], sys.argv[2]
    one, two, part = (os.path.join(work, d) for d in ('one', 'two', 'resumed'))
    n = str(STEPS)
    train(shards, one, ['--batch_size', '8', '--num_iterations', n, '--sync_bn', '1',
                        '--dump_grads', os.path.join(one, 'grads')])
    train(shards, two, ['--batch_size', '4', '--num_iterations', n, '--sync_bn', '1',
                        '--dump_grads', os.path.join(two, 'grads')], procs=2)
    w1, l1 = compare_runs(one, two)

    train(shards, part, ['--batch_size', '8', '--num_iterations', str(STEPS - 1), '--sync_bn', '1'])
    out = train(shards, part, ['--batch_size', '8', '--num_iterations', n, '--restore_from_checkpoint', '1'])
    f = Failures()
    if 'Restoring from checkpoint' not in out:
        f.errors.append('the second run did not restore: ' + out)
    w3, _ = st.read(os.path.join(part, 'checkpoint.safetensors'))
    for k in sorted(w1):
        f.close(k, w3[k], w1[k], 0)
    if [r.get('total_loss') for r in losses(part)] != [r.get('total_loss') for r in l1]:
        f.errors.append('resumed losses differ: %s vs %s' % (losses(part), l1))
    f.done('resumed after %d of %d iterations == uninterrupted, bit for bit' % (STEPS - 1, STEPS))


if __name__ == '__main__':
    main()
