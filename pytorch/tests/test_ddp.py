"""Distributed training equals one process, and resuming equals not stopping.

  python3 test_ddp.py SHARDS_DIR WORK_DIR

1. 2 processes (torchrun, gloo) x batch 4 with --sync_bn 1 for 3 iterations
   give the losses and the weights (parameters and running statistics of
   all three networks) of 1 process x batch 8, within 1e-5: the global
   batch is the same 8 images, SyncBatchNorm normalises over all 8, the
   losses divide by the global object and image counts, and each image's
   layout noise comes from its own (seed, t, example) stream.
2. 1 process for 2 iterations, then --restore_from_checkpoint 1 to 3,
   gives exactly (bit for bit) the weights of the uninterrupted run.
Tiny widths keep it to seconds on two cores.

A bias directly followed by a batch norm in train mode has a true gradient
of zero (the norm subtracts it), computed as float noise whose sign Adam
turns into a step of up to lr (for t <= 3 steps at most 1.01 lr): both
runs move such biases by noise, so they are compared with 2.04 * lr per
step instead of 1e-5, and the running means of the norms after them, which
average those biases in, with momentum times that (as model/train_test.go
treats them against the fixtures). They are listed when the test runs."""
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
        '--seed', '7', '--learning_rate', '1e-3']
TRAIN = os.path.join(PYTORCH, 'train.py')
# Debian's torch 1.13 under Python 3.11 cannot parse torchrun's default
# --redirects 0 (IntFlag iteration skips 0): redirect stdout to its log and
# tee it back, which parses.
TORCHRUN_FIX = ['--redirects', '1', '--tee', '1']


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
    return run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(procs)] + TORCHRUN_FIX + args)


def losses(out):
    with open(os.path.join(out, 'losses.jsonl')) as f:
        return [json.loads(line) for line in f]


def noise_biases(w):
    """Biases whose next module is a batch norm."""
    out = set()
    for k in w:
        prefix, _, rest = k.rpartition('.')
        mod, _, idx = prefix.rpartition('.')
        if rest == 'bias' and idx.isdigit() and '%s.%d.running_mean' % (mod, int(idx) + 1) in w:
            out.add(k)
    return out


def follows_noise(k):
    mod, _, idx = k[:-len('.running_mean')].rpartition('.')
    return '%s.%d.bias' % (mod, int(idx) - 1) if idx.isdigit() else ''


def main():
    shards, work = sys.argv[1], sys.argv[2]
    one, two, part = (os.path.join(work, d) for d in ('one', 'two', 'resumed'))
    train(shards, one, ['--batch_size', '8', '--num_iterations', '3'])
    train(shards, two, ['--batch_size', '4', '--num_iterations', '3', '--sync_bn', '1'], procs=2)
    f = Failures()
    l1, l2 = losses(one), losses(two)
    if len(l1) != 3 or len(l2) != 3:
        f.errors.append('losses.jsonl: %d and %d records, want 3 each' % (len(l1), len(l2)))
    for a, b in zip(l1, l2):
        for k, v in a.items():
            if k in ('t', 'epoch', 'elapsed_s', 'time'):
                continue
            f.close('t=%d %s' % (a['t'], k), torch.tensor(b.get(k, float('nan'))), torch.tensor(v), 1e-5)
    w1, _ = st.read(os.path.join(one, 'checkpoint.safetensors'))
    w2, _ = st.read(os.path.join(two, 'checkpoint.safetensors'))
    if set(w1) != set(w2):
        f.errors.append('tensor names differ: %s' % sorted(set(w1) ^ set(w2)))
    steps, lr = 3, 1e-3
    noisy = noise_biases(w1)
    for k in sorted(set(w1) & set(w2)):
        tol = 1e-5
        if k in noisy:
            tol = 2.04 * lr * steps
        elif k.endswith('.running_mean') and noisy & {follows_noise(k)}:
            # A discriminator's norms update three times an iteration.
            per_step = 3 if k.startswith('d_') else 1
            tol = 0.1 * per_step * 2.04 * lr * steps * (steps - 1) / 2 + 1e-5
        f.close(k, w2[k], w1[k], tol)
    print('     (compared as noise-gradient biases: %s)' % ', '.join(sorted(noisy)))
    f.done('2 processes x batch 4 (gloo, sync_bn) == 1 process x batch 8, 3 iterations')

    train(shards, part, ['--batch_size', '8', '--num_iterations', '2'])
    out = train(shards, part, ['--batch_size', '8', '--num_iterations', '3', '--restore_from_checkpoint', '1'])
    f = Failures()
    if 'Restoring from checkpoint' not in out:
        f.errors.append('the second run did not restore: ' + out)
    w3, _ = st.read(os.path.join(part, 'checkpoint.safetensors'))
    for k in sorted(w1):
        f.close(k, w3[k], w1[k], 0)
    if [r.get('total_loss') for r in losses(part)] != [r.get('total_loss') for r in l1]:
        f.errors.append('resumed losses differ: %s vs %s' % (losses(part), l1))
    f.done('resumed after 2 of 3 iterations == uninterrupted, bit for bit')


if __name__ == '__main__':
    main()
