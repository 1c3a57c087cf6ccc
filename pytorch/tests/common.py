"""Helpers of the PyTorch tests: paths, fixtures, comparisons."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTORCH = os.path.dirname(HERE)
REPO = os.path.dirname(PYTORCH)
TESTDATA = os.path.join(REPO, 'testdata')
sys.path.insert(0, PYTORCH)

import torch  # noqa: E402

import model as M  # noqa: E402
import st  # noqa: E402

CASES = ('tiny_masks', 'tiny_boxes', 'tiny_linear', 'tiny_oldformat')


def encode(graphs, vocab):
    """Spec 1: the graphs as objs, triples, obj_to_img, with __image__ and
    __in_image__ added."""
    objs, triples, obj_to_img = [], [], []
    image, in_image = vocab['object_name_to_idx']['__image__'], vocab['pred_name_to_idx']['__in_image__']
    for i, g in enumerate(graphs):
        base = len(objs)
        objs += [vocab['object_name_to_idx'][o] for o in g['objects']] + [image]
        obj_to_img += [i] * (len(g['objects']) + 1)
        triples += [[s + base, vocab['pred_name_to_idx'][p], o + base] for s, p, o in g['relationships']]
        triples += [[base + j, in_image, base + len(g['objects'])] for j in range(len(g['objects']))]
    t = torch.tensor
    return t(objs), t(triples, dtype=torch.long).view(-1, 3), t(obj_to_img)


def load_case(name):
    meta = json.load(open(os.path.join(TESTDATA, name + '.json')))
    want, _ = st.read(os.path.join(TESTDATA, name + '.expected.safetensors'))
    ck = torch.load(os.path.join(TESTDATA, meta['checkpoints'][0]), map_location='cpu')
    return meta, want, ck


def build(ck):
    G = M.Generator(**ck['model_kwargs'])
    M.load_state(G, ck['model_state'], 'generator')
    d_img = M.PatchDiscriminator(**ck['d_img_kwargs'])
    M.load_state(d_img, ck['d_img_state'], 'd_img')
    d_obj = M.AcCropDiscriminator(**ck['d_obj_kwargs'])
    M.load_state(d_obj, ck['d_obj_state'], 'd_obj')
    return G, d_obj, d_img


class Failures:
    def __init__(self):
        self.errors, self.checked = [], 0

    def close(self, what, got, want, tol):
        self.checked += 1
        got, want = got.detach().double(), want.double()
        if tuple(got.shape) != tuple(want.shape):
            self.errors.append('%s: shape %s, want %s' % (what, tuple(got.shape), tuple(want.shape)))
            return
        d = (got - want).abs().max().item() if got.numel() else 0.0
        if not d <= tol:
            self.errors.append('%s: max |diff| %.3g > %.3g' % (what, d, tol))

    def done(self, name):
        if self.errors:
            print('FAIL %s (%d of %d comparisons):' % (name, len(self.errors), self.checked))
            for e in self.errors:
                print('  ' + e)
            sys.exit(1)
        print('ok   %s (%d comparisons)' % (name, self.checked))
