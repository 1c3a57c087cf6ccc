"""Bad input gets a clear error naming the problem (pytorch/):

  python3 test_errors.py SHARDS_DIR WORK_DIR

- a generator option the PyTorch side does not build (a newer sg2im's) is
  refused, naming it; an empty value of it is accepted;
- this program's options out of Go's ranges are refused, naming them; off,
  they are left out of the kwargs (a release model's kwargs stay as they
  were); appearance_scale scales the vectors drawn at inference only;
- --appearance_dim without --appearance_kl_weight exits 2 saying so;
- a directory without shards, and an --image_size other than the shards',
  stop train.py with exit code 4 and 2 and say what to run;
- --checkpoint_start_from a file that is not a checkpoint exits 3."""
import json
import os
import subprocess
import sys

import torch

from common import PYTORCH, Failures, encode, load_case
import model as M

TRAIN = os.path.join(PYTORCH, 'train.py')


def train(args):
    r = subprocess.run([sys.executable, TRAIN] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def check_options(f, release_kwargs):
    for key, bad in (('appearance_dim', -1), ('appearance_dim', 1 << 15), ('instance_embeddings', 2000),
                     ('appearance_scale', 11.0), ('box_sigmoid', 'yes')):
        f.checked += 1
        try:
            M.Generator(**dict(release_kwargs, **{key: bad}))
            f.errors.append('%s = %r was accepted' % (key, bad))
        except ValueError as e:
            if key not in str(e):
                f.errors.append('the error does not name %s: %s' % (key, e))
    off = M.Generator(**dict(release_kwargs, appearance_dim=0, appearance_scale=0, box_sigmoid=False,
                             instance_embeddings=0))
    f.checked += 1
    if set(off.kwargs) != set(M.Generator(**release_kwargs).kwargs):
        f.errors.append('options that are off were written into the kwargs: %s' % sorted(off.kwargs))
    # appearance_scale: the draws at inference are scaled; given vectors are not.
    G = M.Generator(**dict(release_kwargs, appearance_dim=3, appearance_scale=0.25)).eval()
    meta, _, _ = load_case('tiny_masks')
    objs, triples, obj_to_img = encode(meta['scene_graphs'], release_kwargs['vocab'])
    with torch.no_grad():
        torch.manual_seed(1)
        drawn = G(objs, triples, obj_to_img)[0]
        torch.manual_seed(1)
        z = torch.randn(objs.shape[0], 3)
        given = G(objs, triples, obj_to_img, appearance=z * 0.25)[0]
        unscaled = G(objs, triples, obj_to_img, appearance=z)[0]
    f.close('image of drawn vectors scaled by appearance_scale', drawn, given, 0)
    f.checked += 1
    if (unscaled - drawn).abs().max().item() == 0:
        f.errors.append('appearance_scale changed nothing')


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
    check_options(f, ck['model_kwargs'])

    for args, code, words in (
            (['--shards', work], 4, 'sg2im shards --out'),
            (['--shards', shards, '--image_size', '48,48'], 2, 'sg2im shards'),
            (['--shards', shards, '--appearance_dim', '4'], 2, '--appearance_kl_weight'),
            (['--shards', shards, '--checkpoint_start_from', os.path.join(shards, 'index.json')], 3,
             'checkpoint_start_from')):
        got, out = train(args + ['--output_dir', os.path.join(work, 'out'), '--num_iterations', '1'])
        f.checked += 1
        if got != code or words not in out or 'Traceback' in out:
            f.errors.append('train.py %s: exit %d, want %d with %r in:\n%s' % (' '.join(args), got, code, words, out))
    f.done('errors name the problem and the fix')


if __name__ == '__main__':
    main()
