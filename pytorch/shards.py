"""Reading the training shards that `sg2im shards` writes, with no Go code.

DIR/index.json lists the shard files and the set's configuration (image and
mask size, vocabulary, draws). Each shard-NNNNN.safetensors holds a run of
examples: their images once (`images`, F32 (E, 3, H, W), ImageNet-normalised
exactly as sg2im train hands them to the model) and, for each of the set's
`draws` scene-graph draws of each example, a record: objects (`objs`),
boxes (`boxes`), masks (`masks`, when the set has them) and triples
(`triples`, indices into the record's objects), located by `obj_start` and
`triple_start` (record r is example r // draws, draw r % draws). Epoch e of
training uses draw e % draws of every example: the release draws fresh
relationships each time it loads an image; the shards carry `draws` such
draws, made by the Go datasets exactly as sg2im train makes them.
"""
import json
import os

import numpy as np
import torch
from torch.utils.data import Dataset

FORMAT, VERSION = 'sg2im-shards', 1
_NP = {'F32': np.float32, 'I64': np.int64}


class ShardError(ValueError):
    pass


def _tensors(path):
    """Memory-maps a safetensors file's tensors (only the pages read are
    loaded): (dict name -> numpy array, metadata)."""
    with open(path, 'rb') as f:
        n = int.from_bytes(f.read(8), 'little')
        size = os.fstat(f.fileno()).st_size
        if n > size - 8 or n > 100 << 20:
            raise ShardError('%s: not a safetensors file (header length %d)' % (path, n))
        header = json.loads(f.read(n))
    meta = header.pop('__metadata__', {}) or {}
    out = {}
    for name, e in header.items():
        if e['dtype'] not in _NP:
            raise ShardError('%s: tensor %s has dtype %s; shards hold F32 and I64' % (path, name, e['dtype']))
        a, b = e['data_offsets']
        dt = np.dtype(_NP[e['dtype']]).newbyteorder('<')
        shape = tuple(e['shape'])
        if b - a != int(np.prod(shape, dtype=np.int64)) * dt.itemsize or 8 + n + b > size:
            raise ShardError('%s: tensor %s does not fit the file' % (path, name))
        out[name] = np.memmap(path, dtype=dt, mode='r', offset=8 + n + a, shape=shape) if b > a \
            else np.zeros(shape, dt)
    return out, meta


class ShardSet(Dataset):
    """The examples of a shard directory; item (i, draw) is example i with
    its draw-th scene graph, as a dict of tensors."""

    def __init__(self, root):
        path = os.path.join(root, 'index.json')
        if not os.path.exists(path):
            raise ShardError('%s has no index.json: write shards with sg2im shards --out %s (an interrupted run'
                             ' writes the index last; run it again to finish)' % (root, root))
        with open(path) as f:
            ix = json.load(f)
        if ix.get('format') != FORMAT or ix.get('version') != VERSION:
            raise ShardError('%s: format %r version %r; this trainer reads %s version %d'
                             % (path, ix.get('format'), ix.get('version'), FORMAT, VERSION))
        self.root, self.index = root, ix
        self.image_size = tuple(ix['image_size'])
        self.mask_size = ix['mask_size']
        self.draws = ix['draws']
        self.vocab = ix['vocab']
        self.files = [s['file'] for s in ix['shards']]
        self.starts = np.cumsum([0] + [s['examples'] for s in ix['shards']])
        self._open = {}

    def __len__(self):
        return int(self.starts[-1])

    def _shard(self, k):
        if k not in self._open:
            t, meta = _tensors(os.path.join(self.root, self.files[k]))
            self._open[k] = t
        return self._open[k]

    def __getitem__(self, key):
        i, draw = key
        if not 0 <= i < len(self):
            raise IndexError('example %d of %d' % (i, len(self)))
        k = int(np.searchsorted(self.starts, i, side='right')) - 1
        t = self._shard(k)
        e = i - int(self.starts[k])
        r = e * self.draws + draw % self.draws
        o0, o1 = int(t['obj_start'][r]), int(t['obj_start'][r + 1])
        t0, t1 = int(t['triple_start'][r]), int(t['triple_start'][r + 1])
        ex = {'image': torch.from_numpy(np.array(t['images'][e], dtype=np.float32)),
              'objs': torch.from_numpy(np.array(t['objs'][o0:o1], dtype=np.int64)),
              'boxes': torch.from_numpy(np.array(t['boxes'][o0:o1], dtype=np.float32)),
              'triples': torch.from_numpy(np.array(t['triples'][t0:t1], dtype=np.int64)).view(-1, 3)}
        if 'masks' in t:
            ex['masks'] = torch.from_numpy(np.array(t['masks'][o0:o1], dtype=np.float32))
        return ex


def collate(exs):
    """The release's coco_collate_fn: objects of all images in order,
    triple indices offset by the objects before their image."""
    objs, boxes, masks, triples, obj_to_img = [], [], [], [], []
    base = 0
    for i, ex in enumerate(exs):
        n = ex['objs'].shape[0]
        objs.append(ex['objs'])
        boxes.append(ex['boxes'])
        if 'masks' in ex:
            masks.append(ex['masks'])
        t = ex['triples'].clone()
        t[:, 0] += base
        t[:, 2] += base
        triples.append(t)
        obj_to_img.append(torch.full((n,), i, dtype=torch.long))
        base += n
    return {'imgs': torch.stack([ex['image'] for ex in exs]), 'objs': torch.cat(objs), 'boxes': torch.cat(boxes),
            'masks': torch.cat(masks) if len(masks) == len(exs) else None, 'triples': torch.cat(triples),
            'obj_to_img': torch.cat(obj_to_img), 'index': [ex.get('index') for ex in exs]}


def epoch_permutation(n, seed, epoch):
    g = torch.Generator().manual_seed((seed * 1000003 + epoch) % (1 << 63))
    return torch.randperm(n, generator=g).tolist()


class GlobalBatches:
    """Batch b (counting from 0 across epochs) of the whole run: a
    shuffled epoch cut into global batches of batch_size * world examples,
    the last one of an epoch holding what is left (drop_last=False, as the
    release); this process takes its contiguous share. A batch too small to
    give every process an example is skipped by all. Starts at batch
    `start` (resume)."""

    def __init__(self, n, batch_size, world, rank, seed, start=0):
        self.n, self.b, self.world, self.rank, self.seed, self.start = n, batch_size, world, rank, seed, start
        self.global_b = batch_size * world
        self.per_epoch = (n + self.global_b - 1) // self.global_b

    _perm = (None, None)

    def batch(self, b):
        """(epoch, list of (example, draw)) of this process for batch b;
        None when the batch is too small to share."""
        epoch, k = divmod(b, self.per_epoch)
        if self._perm[0] != epoch:
            self._perm = (epoch, epoch_permutation(self.n, self.seed, epoch))
        perm = self._perm[1]
        idx = perm[k * self.global_b:(k + 1) * self.global_b]
        if len(idx) < self.world:
            return epoch, None
        lo, hi = self.rank * len(idx) // self.world, (self.rank + 1) * len(idx) // self.world
        return epoch, [(i, epoch) for i in idx[lo:hi]]

    def __iter__(self):
        b = self.start
        while True:
            epoch, keys = self.batch(b)
            yield keys if keys is not None else []
            b += 1


class Keyed(Dataset):
    """A ShardSet whose items carry their example index (for the per-image noise)."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, key):
        ex = self.ds[key]
        ex['index'] = key[0]
        return ex


def collate_or_none(exs):
    return collate(exs) if exs else None
