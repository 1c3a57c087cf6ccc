"""Bad input gets a clear error naming the problem (pytorch/):

  python3 test_errors.py SHARDS_DIR WORK_DIR

- a generator option the PyTorch side does not build (a newer sg2im's) is
  refused, naming it; an empty value of it is accepted;
- a directory without shards, and an --image_size other than the shards',
  stop train.py with exit code 4 and 2 and say what to run;
- --checkpoint_start_from a file that is not a checkpoint exits 3."""
import json
import os
import subprocess
import sys

from common import PYTORCH, Failures, load_case
import model as M

TRAIN = os.path.join(PYTORCH, 'train.py')


def train(args):
    r = subprocess.run([sys.executable, TRAIN] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def main():
    shards, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    f = Failures()
    _, _, ck = load_case('tiny_masks')
    kw = dict(ck['model_kwargs'], object_appearance_dim=8)
    try:
        M.Generator(**kw)
        f.errors.append('an unknown generator option was accepted')
    except M.UnsupportedOption as e:
        f.checked += 1
        if 'object_appearance_dim' not in str(e):
            f.errors.append('the error does not name the option: %s' % e)
    M.Generator(**dict(ck['model_kwargs'], object_appearance_dim=0))  # unset: the release's model
    f.checked += 1

    for args, code, words in (
            (['--shards', work], 4, 'sg2im shards --out'),
            (['--shards', shards, '--image_size', '48,48'], 2, 'sg2im shards'),
            (['--shards', shards, '--checkpoint_start_from', os.path.join(shards, 'index.json')], 3,
             'checkpoint_start_from')):
        got, out = train(args + ['--output_dir', os.path.join(work, 'out'), '--num_iterations', '1'])
        f.checked += 1
        if got != code or words not in out or 'Traceback' in out:
            f.errors.append('train.py %s: exit %d, want %d with %r in:\n%s' % (' '.join(args), got, code, words, out))
    f.done('errors name the problem and the fix')


if __name__ == '__main__':
    main()
