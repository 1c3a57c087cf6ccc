"""sg2im training on PyTorch's distributed engine: the release's loop
(scripts/train.py) under sg2im train's flag names and defaults, on shards
written by `sg2im shards`, one process or many (DDP over gloo on CPU, NCCL
on GPUs), writing checkpoints that sg2im generate, eval, the app and the
widget load as they are.

  torchrun --standalone --nproc_per_node=N pytorch/train.py --shards DIR --output_dir OUT [flags]

--batch_size is per process: N processes train on global batches of
N * batch_size. In OUT: NAME.safetensors (our format: the generator, d_img.*
and d_obj.*, kwargs and vocabulary in the metadata), NAME.state.pt
(optimisers, counters, loss history: --restore_from_checkpoint 1 resumes
exactly), losses.jsonl (as sg2im train's).
"""
import argparse
import io
import json
import math
import os
import signal
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as M  # noqa: E402
import shards as S  # noqa: E402
import st  # noqa: E402
import trainer  # noqa: E402

STATE_VERSION = 1
# Flags that shape the generator: a checkpoint's model_kwargs replace them.
MODEL_FLAGS = {'image_size': 'image_size', 'mask_size': 'mask_size', 'embedding_dim': 'embedding_dim',
               'gconv_dim': 'gconv_dim', 'gconv_hidden_dim': 'gconv_hidden_dim',
               'gconv_num_layers': 'gconv_num_layers', 'refinement_network_dims': 'refinement_dims',
               'normalization': 'normalization', 'activation': 'activation', 'layout_noise_dim': 'layout_noise_dim',
               'mlp_normalization': 'mlp_normalization', 'appearance_dim': 'appearance_dim',
               'box_sigmoid': 'box_sigmoid', 'instance_embeddings': 'instance_embeddings'}
# This program's options: a checkpoint without one has it off.
OPTION_FLAGS = {'appearance_dim': 0, 'box_sigmoid': False, 'instance_embeddings': 0}
# Settings a resumed run takes from the command line; the rest from its checkpoint.
RUN_LENGTH = ('num_iterations', 'print_every', 'checkpoint_every', 'num_val_samples')
LOSS_ORDER = ('total_loss', 'L1_pixel_loss', 'bbox_pred', 'mask_loss', 'ac_loss', 'g_gan_obj_loss', 'g_gan_img_loss',
              'd_obj_gan_loss', 'd_ac_loss_real', 'd_ac_loss_fake', 'd_obj_total', 'd_img_gan_loss',
              'appearance_kl')  # sg2im train's order: the release's, then the rest


def release_bool(s):
    if s.lower() in ('1', 'true'):
        return True
    if s.lower() in ('0', 'false'):
        return False
    raise argparse.ArgumentTypeError('want 0 or 1 (or false, true), not %r' % s)


def int_tuple(s):
    try:
        return [int(v) for v in s.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('want integers separated by commas, e.g. 64,64; got %r' % s)


def float_tuple(s):
    try:
        return [float(v) for v in s.split(',')]
    except ValueError:
        raise argparse.ArgumentTypeError('want numbers separated by commas; got %r' % s)


def parser():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a('--shards', required=True, help='directory written by sg2im shards')
    a('--batch_size', type=int, default=32, help='images per batch and process')
    a('--num_iterations', type=int, default=1000000)
    a('--learning_rate', type=float, default=1e-4)
    a('--eval_mode_after', type=int, default=100000, help='-1: never')
    a('--image_size', type=int_tuple, default=None, help='H,W (default: the shards\'; must match them)')
    a('--mask_size', type=int, default=None, help='default: the shards\' (0: no masks)')
    a('--embedding_dim', type=int, default=128)
    a('--gconv_dim', type=int, default=128)
    a('--gconv_hidden_dim', type=int, default=512)
    a('--gconv_num_layers', type=int, default=5)
    a('--mlp_normalization', default='none')
    a('--box_bias_init', type=float_tuple, default=None, help='x0,y0,x1,y1: initial bias of the box net\'s last layer')
    a('--refinement_network_dims', type=int_tuple, default=[1024, 512, 256, 128, 64])
    a('--normalization', default='batch')
    a('--activation', default='leakyrelu-0.2')
    a('--layout_noise_dim', type=int, default=32)
    # This program's generator options (sg2im train's; all off by default, as the release).
    a('--appearance_dim', type=int, default=0,
      help='per-object appearance vector width, encoded from the real crops at training, drawn from the seed at'
           ' inference (0: none, as the release)')
    a('--appearance_kl_weight', type=float, default=0.0,
      help='weight of the appearance vectors\' KL divergence from N(0, I), e.g. 0.01 (needed with --appearance_dim)')
    a('--box_sigmoid', type=release_bool, default=False, nargs='?', const=True,
      help='end the box net in a sigmoid, keeping boxes inside the image (default the release\'s ReLU)')
    a('--instance_embeddings', type=int, default=0,
      help='learned embeddings of an object\'s instance index among its category (0: none)')
    a('--l1_pixel_loss_weight', type=float, default=1.0)
    a('--bbox_pred_loss_weight', type=float, default=10.0)
    a('--mask_loss_weight', type=float, default=0.0)
    a('--discriminator_loss_weight', type=float, default=0.01)
    a('--gan_loss_type', default='gan', choices=['gan', 'lsgan', 'wgan'])
    a('--d_normalization', default='batch')
    a('--d_padding', default='valid')
    a('--d_activation', default='leakyrelu-0.2')
    a('--d_obj_arch', default='C4-64-2,C4-128-2,C4-256-2')
    a('--crop_size', type=int, default=32)
    a('--d_obj_weight', type=float, default=1.0)
    a('--ac_loss_weight', type=float, default=0.1)
    a('--d_img_arch', default='C4-64-2,C4-128-2,C4-256-2')
    a('--d_img_weight', type=float, default=1.0)
    a('--print_every', type=int, default=10)
    a('--checkpoint_every', type=int, default=10000)
    a('--num_val_samples', type=int, default=1024, help='accepted for sg2im train\'s flags; no validation here')
    a('--output_dir', default='.')
    a('--checkpoint_name', default='checkpoint')
    a('--checkpoint_start_from', default='', help='a release .pt or an sg2im .safetensors (e.g. from sg2im train)')
    a('--restore_from_checkpoint', type=release_bool, default=False, nargs='?', const=True)
    a('--seed', type=int, default=0)
    a('--threads', type=int, default=0, help='CPU threads per process (0: PyTorch\'s default)')
    a('--loader_num_workers', type=int, default=4)
    a('--sync_bn', type=release_bool, default=False, nargs='?', const=True,
      help='1: batch norms over the global batch of all processes')
    a('--device', default='auto', help='auto (cuda when available), cpu or cuda')
    # For tests: after each iteration, process 0 writes the (DDP-averaged)
    # gradients of the three networks to DIR/tT.safetensors.
    a('--dump_grads', default='', help=argparse.SUPPRESS)
    return p


def given_flags(argv):
    return {a[2:].split('=')[0] for a in argv if a.startswith('--')}


def fail(msg, code=2):
    print('pytorch/train.py: ' + msg, file=sys.stderr)
    sys.exit(code)


def validate(a):
    checks = [(a.batch_size >= 1, '--batch_size %d: want at least 1' % a.batch_size),
              (a.num_iterations >= 0, '--num_iterations %d: want at least 0' % a.num_iterations),
              (0 < a.learning_rate <= 1, '--learning_rate %g: want a value in (0, 1]' % a.learning_rate),
              (a.print_every >= 1, '--print_every %d: want at least 1' % a.print_every),
              (a.checkpoint_every >= 1, '--checkpoint_every %d: want at least 1' % a.checkpoint_every),
              (a.mask_loss_weight == 0 or a.mask_size, '--mask_loss_weight needs masks: set --mask_size above 0'),
              (a.box_bias_init is None or len(a.box_bias_init) == 4, '--box_bias_init: want 4 numbers x0,y0,x1,y1')]
    checks.append((a.appearance_dim == 0 or a.appearance_kl_weight > 0,
                   '--appearance_dim %d needs --appearance_kl_weight above 0 (e.g. 0.01), or the vectors drawn at'
                   ' inference will not be those the generator learned from' % a.appearance_dim))
    for w in ('l1_pixel_loss_weight', 'bbox_pred_loss_weight', 'mask_loss_weight', 'discriminator_loss_weight',
              'd_obj_weight', 'd_img_weight', 'ac_loss_weight', 'appearance_kl_weight'):
        v = getattr(a, w)
        checks.append((0 <= v <= 1e6, '--%s %g: want a weight in [0, 1e6]' % (w, v)))
    for ok, msg in checks:
        if not ok:
            fail(msg)


# ------------------------------------------------------------- processes

class Dist:
    """This process's place: rank, world size, device, process group."""

    def __init__(self, device):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        local = int(os.environ.get('LOCAL_RANK', '0'))
        cuda = torch.cuda.is_available() if device == 'auto' else device == 'cuda'
        if cuda and not torch.cuda.is_available():
            fail('--device cuda: no CUDA device is visible')
        self.device = torch.device('cuda', local) if cuda else torch.device('cpu')
        if cuda:
            torch.cuda.set_device(self.device)
        self.group = None
        if self.world > 1:
            dist.init_process_group('nccl' if cuda else 'gloo')
            self.group = dist.group.WORLD

    @property
    def main(self):
        return self.rank == 0

    def any(self, flag):
        """Whether any process has flag set (all agree on stopping)."""
        if self.group is None:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(t)
        return t.item() > 0


def splitmix64(x):
    m = (1 << 64) - 1
    x = (x + 0x9e3779b97f4a7c15) & m
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & m
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & m
    return x ^ (x >> 31)


def image_noise(seed, t, indices, z, h, w):
    """Layout noise (N, Z, H, W) of iteration t: each image's from its own
    stream (seed, t, example index), so that it does not depend on how the
    global batch is split across processes."""
    out = torch.empty(len(indices), z, h, w)
    for k, i in enumerate(indices):
        g = torch.Generator().manual_seed(splitmix64(seed ^ splitmix64((t << 32) ^ i)) >> 1)
        out[k] = torch.randn(z, h, w, generator=g)
    return out


APPEARANCE_STREAM = 0xa99ea5


def appearance_eps(seed, t, indices, obj_to_img, a):
    """The standard normal draws (O, a) of iteration t's appearance sample:
    each image's objects, in order, from its own stream (seed, t, example
    index; another than image_noise's), whatever the split across
    processes."""
    counts = torch.bincount(obj_to_img.cpu(), minlength=len(indices)).tolist()
    parts = []
    for i, n in zip(indices, counts):
        g = torch.Generator().manual_seed(splitmix64(seed ^ splitmix64((t << 32) ^ i) ^ APPEARANCE_STREAM) >> 1)
        parts.append(torch.randn(n, a, generator=g))
    return torch.cat(parts)


# --------------------------------------------------------------- networks

def model_kwargs(a, vocab, appearance_scale=0):
    """The generator's kwargs from the flags; this program's options only
    when set, as sg2im train writes them. appearance_scale is no training
    flag: a start checkpoint's is kept."""
    kw = {'image_size': list(a.image_size), 'embedding_dim': a.embedding_dim, 'gconv_dim': a.gconv_dim,
          'gconv_hidden_dim': a.gconv_hidden_dim, 'gconv_num_layers': a.gconv_num_layers, 'gconv_pooling': 'avg',
          'refinement_dims': list(a.refinement_network_dims), 'normalization': a.normalization,
          'activation': a.activation, 'mask_size': a.mask_size, 'mlp_normalization': a.mlp_normalization,
          'layout_noise_dim': a.layout_noise_dim, 'vocab': vocab}
    for k, v in (('appearance_dim', a.appearance_dim), ('appearance_scale', appearance_scale),
                 ('box_sigmoid', a.box_sigmoid), ('instance_embeddings', a.instance_embeddings)):
        if v:
            kw[k] = v
    return kw


def d_img_kwargs(a):
    if a.discriminator_loss_weight == 0 or a.d_img_weight == 0:
        return None
    return {'arch': a.d_img_arch, 'normalization': a.d_normalization, 'activation': a.d_activation,
            'padding': a.d_padding}


def d_obj_kwargs(a, vocab):
    if a.discriminator_loss_weight == 0 or a.d_obj_weight == 0:
        return None
    return {'vocab': vocab, 'arch': a.d_obj_arch, 'normalization': a.d_normalization, 'activation': a.d_activation,
            'padding': a.d_padding, 'object_size': a.crop_size}


def read_checkpoint(path):
    """(model_kwargs, generator state, d_img (kwargs, state) or None, d_obj
    likewise) of a release .pt or an sg2im .safetensors."""
    if path.endswith('.safetensors'):
        tensors, meta = st.read(path)
        if 'model_kwargs' not in meta:
            raise ValueError('%s has no model_kwargs metadata: not an sg2im checkpoint' % path)
        parts = {'': {}, 'd_img.': {}, 'd_obj.': {}}
        for k, v in tensors.items():
            pre = 'd_img.' if k.startswith('d_img.') else 'd_obj.' if k.startswith('d_obj.') else ''
            parts[pre][k[len(pre):]] = v
        d = {}
        for pre, key in (('d_img.', 'd_img_kwargs'), ('d_obj.', 'd_obj_kwargs')):
            d[pre] = (json.loads(meta[key]), parts[pre]) if key in meta else None
        return json.loads(meta['model_kwargs']), parts[''], d['d_img.'], d['d_obj.']
    # A .pt file is a pickle, which can run code: load only trusted ones
    # (sg2im convert turns one into safetensors without running anything).
    try:
        ck = torch.load(path, map_location='cpu')
    except Exception as e:  # torch raises anything from UnpicklingError to RuntimeError
        raise ValueError('not a release .pt or an sg2im .safetensors checkpoint (%s)' % e)
    if not isinstance(ck, dict) or 'model_kwargs' not in ck or 'model_state' not in ck:
        raise ValueError('a PyTorch file, but not an sg2im checkpoint (no model_kwargs and model_state)')
    d_img = (ck['d_img_kwargs'], ck['d_img_state']) if ck.get('d_img_state') is not None else None
    d_obj = (ck['d_obj_kwargs'], ck['d_obj_state']) if ck.get('d_obj_state') is not None else None
    return ck['model_kwargs'], ck['model_state'], d_img, d_obj


def adopt_model_kwargs(a, kw, given, path, log):
    """The release builds the model from a start checkpoint's kwargs: they
    replace the generator flags (a flag given with another value is named)."""
    for flag, key in MODEL_FLAGS.items():
        v = kw.get(key, OPTION_FLAGS.get(flag, getattr(a, flag)))
        if key == 'mask_size':
            v = v or 0
        if flag in given and json.dumps(v) != json.dumps(getattr(a, flag)):
            log('warning: --%s %s ignored: %s has %s' % (flag, getattr(a, flag), path, v))
        setattr(a, flag, list(v) if isinstance(v, (list, tuple)) else v)


def same_vocab(x, y):
    return x['object_idx_to_name'] == y['object_idx_to_name'] and x['pred_idx_to_name'] == y['pred_idx_to_name']


class Nets:
    """The three networks and their optimisers."""

    def __init__(self, a, vocab, start=None, log=print, appearance_scale=0):
        torch.manual_seed(a.seed)  # the same initial weights in every process
        if start is not None:
            appearance_scale = start[1][0].get('appearance_scale', 0)
        self.G = M.Generator(**model_kwargs(a, vocab, appearance_scale))
        for w in self.G.warnings:
            log('warning: ' + w)
        if a.box_bias_init:
            self.G.set_box_bias(a.box_bias_init)
        ki, ko = d_img_kwargs(a), d_obj_kwargs(a, vocab)
        self.d_img = M.PatchDiscriminator(**ki) if ki else None
        self.d_obj = M.AcCropDiscriminator(**ko) if ko else None
        if start is not None:
            path, (_, g_state, d_img, d_obj) = start
            M.load_state(self.G, g_state, 'the generator of ' + path)
            for name, net, want, got in (('d_img', self.d_img, ki, d_img), ('d_obj', self.d_obj, ko, d_obj)):
                if net is None or got is None:
                    continue
                kw = {k: v for k, v in got[0].items() if k != 'vocab'}
                if kw == {k: v for k, v in want.items() if k != 'vocab'}:
                    M.load_state(net, got[1], '%s of %s' % (name, path))
                    log('%s initialised from %s' % (name, path))
                else:
                    log('warning: %s: %s not used: its kwargs %s differ from the flags\' %s' % (path, name, kw, want))
        self.new_optimisers(a.learning_rate)

    def new_optimisers(self, lr):
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr)
        self.opt_obj = torch.optim.Adam(self.d_obj.parameters(), lr=lr) if self.d_obj else None
        self.opt_img = torch.optim.Adam(self.d_img.parameters(), lr=lr) if self.d_img else None

    def modules(self):
        return (('G', self.G), ('d_obj', self.d_obj), ('d_img', self.d_img))

    def optimisers(self):
        return (('opt_g', self.opt_g), ('opt_obj', self.opt_obj), ('opt_img', self.opt_img))


def weights_file(nets, a, args_json):
    """Our checkpoint: the generator under the release's names, d_img.* and
    d_obj.*, kwargs (with the vocabulary) and args as JSON metadata."""
    tensors = {}
    for pre, net in (('', nets.G), ('d_img.', nets.d_img), ('d_obj.', nets.d_obj)):
        if net is not None:
            for k, v in net.state_dict().items():
                tensors[pre + k] = v.detach().cpu().contiguous()
    meta = {'format': 'sg2im', 'model_kwargs': M.kwargs_json(nets.G.kwargs), 'args': args_json}
    if nets.d_img is not None:
        meta['d_img_kwargs'] = M.kwargs_json(nets.d_img.kwargs)
    if nets.d_obj is not None:
        meta['d_obj_kwargs'] = M.kwargs_json(nets.d_obj.kwargs)
    return st.encode(tensors, meta)


# ------------------------------------------------------------------- run

class Run:
    def __init__(self, a, given, d):
        self.a, self.d, self.given = a, d, given
        self.log = (lambda m: print(m, flush=True)) if d.main else (lambda m: None)
        self.ds = S.ShardSet(a.shards)
        self.stop = False
        self.weights_path = os.path.join(a.output_dir, a.checkpoint_name + '.safetensors')
        self.state_path = os.path.join(a.output_dir, a.checkpoint_name + '.state.pt')
        self.st = {'t': 0, 'epoch': 0, 'batches': 0, 'eval_mode': False, 'skipped': 0, 'elapsed_s': 0.0,
                   'history': []}
        restored = a.restore_from_checkpoint and os.path.exists(self.state_path)
        if a.restore_from_checkpoint and not restored:
            self.log('No checkpoint %s to restore; starting from scratch' % self.state_path)
        saved = torch.load(self.state_path, map_location='cpu') if restored else None
        if saved is not None:
            if saved.get('version') != STATE_VERSION:
                fail('%s: state version %r; this trainer reads %d' % (self.state_path, saved.get('version'),
                                                                       STATE_VERSION), 3)
            for k, v in saved['args'].items():
                if k not in RUN_LENGTH and k in vars(a) and k not in ('output_dir', 'shards', 'device',
                                                                       'loader_num_workers', 'threads', 'dump_grads'):
                    if k in given and json.dumps(v) != json.dumps(getattr(a, k)):
                        self.log('warning: --%s %s ignored: the restored run keeps its %s' % (k, getattr(a, k), v))
                    setattr(a, k, v)
        start = None
        if saved is None and a.checkpoint_start_from:
            try:
                ck = read_checkpoint(a.checkpoint_start_from)
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
                fail('--checkpoint_start_from %s: %s' % (a.checkpoint_start_from, e), 3)
            adopt_model_kwargs(a, ck[0], given, a.checkpoint_start_from, self.log)
            if not same_vocab(ck[0]['vocab'], self.ds.vocab):
                fail('%s: its vocabulary differs from the shards\': it was trained on other data'
                     % a.checkpoint_start_from, 3)
            start = (a.checkpoint_start_from, ck)
        self.check_sizes()
        validate(a)
        try:
            # A restored run keeps its generator's appearance_scale (no flag).
            scale = saved.get('appearance_scale', 0) if saved is not None else 0
            self.nets = Nets(a, self.ds.vocab, start, self.log, scale)
        except M.UnsupportedOption as e:
            fail(str(e), 3)
        except ValueError as e:
            fail(str(e), 3 if start else 2)
        if saved is not None:
            self.restore(saved)
        self.args_json = json.dumps({k: v for k, v in vars(a).items() if k not in ('device',)}, sort_keys=True)
        self.place()

    def check_sizes(self):
        a, ds = self.a, self.ds
        if a.image_size is None:
            a.image_size = list(ds.image_size)
        if a.mask_size is None:
            a.mask_size = ds.mask_size
        if len(a.image_size) == 1:
            a.image_size = a.image_size * 2
        if tuple(a.image_size) != tuple(ds.image_size):
            fail('--image_size %s: the shards in %s hold %s images; write shards of that size with sg2im shards'
                 ' --image_size' % (','.join(map(str, a.image_size)), a.shards, ','.join(map(str, ds.image_size))))
        if a.mask_size and a.mask_size != ds.mask_size:
            fail('--mask_size %d: the shards hold %s masks; write shards with sg2im shards --mask_size %d'
                 % (a.mask_size, ds.mask_size or 'no', a.mask_size))

    def restore(self, saved):
        self.log('Restoring from checkpoint %s at t = %d' % (self.state_path, saved['state']['t']))
        for name, net in self.nets.modules():
            if net is not None:
                M.load_state(net, saved[name], name)
        self.st = saved['state']
        if self.st['eval_mode']:
            self.nets.G.eval()
        for name, opt in self.nets.optimisers():
            if opt is not None:
                opt.load_state_dict(saved[name])

    def place(self):
        """Moves the networks to the device and wraps them for DDP."""
        n, d = self.nets, self.d
        for _, net in n.modules():
            if net is not None:
                net.to(d.device)
                if self.a.sync_bn:
                    M.sync_batch_norms(net, d.group if d.group is not None else M.SINGLE)
        for _, opt in n.optimisers():
            if opt is not None:  # restored moments to the device
                for s in opt.state.values():
                    for k, v in s.items():
                        if torch.is_tensor(v) and k != 'step':
                            s[k] = v.to(d.device)
        self.G, self.d_obj, self.d_img = n.G, n.d_obj, n.d_img
        if d.group is not None:
            from torch.nn.parallel import DistributedDataParallel as DDP
            ids = [d.device.index] if d.device.type == 'cuda' else None
            wrap = lambda m: DDP(m, device_ids=ids, find_unused_parameters=True, broadcast_buffers=False)
            self.G = wrap(n.G)
            self.d_obj = wrap(n.d_obj) if n.d_obj else None
            self.d_img = wrap(n.d_img) if n.d_img else None
        self.step = trainer.Step(self.a, self.G, self.d_obj, self.d_img, n.opt_g, n.opt_obj, n.opt_img, d.group)

    def checkpoint(self):
        """State first, then weights, each replaced atomically; rank 0 writes."""
        if not self.d.main:
            return
        n = self.nets
        saved = {'version': STATE_VERSION, 'state': self.st, 'args': json.loads(self.args_json),
                 'appearance_scale': n.G.kwargs.get('appearance_scale', 0)}
        for name, net in n.modules():
            if net is not None:
                saved[name] = {k: v.detach().cpu() for k, v in net.state_dict().items()}
        for name, opt in n.optimisers():
            if opt is not None:
                saved[name] = opt.state_dict()
        buf = io.BytesIO()
        torch.save(saved, buf)
        st.write_atomic(self.state_path, buf.getvalue())
        st.write_atomic(self.weights_path, weights_file(n, self.a, self.args_json))
        self.log('Checkpoint at t = %d written to %s' % (self.st['t'], self.weights_path))

    def dump_grads(self, path):
        grads = {}
        for name, net in self.nets.modules():
            if net is not None:
                for k, p in net.named_parameters():
                    if p.grad is not None:
                        grads['%s.%s' % (name, k)] = p.grad.detach().cpu()
        st.write(path, grads)

    def record(self, rec):
        self.st['history'].append(rec)
        if self.d.main:
            with open(os.path.join(self.a.output_dir, 'losses.jsonl'), 'a') as f:
                f.write(json.dumps(rec) + '\n')

    def rewrite_log(self):
        if self.d.main:
            st.write_atomic(os.path.join(self.a.output_dir, 'losses.jsonl'),
                            ''.join(json.dumps(r) + '\n' for r in self.st['history']).encode())

    def loader(self):
        a, d = self.a, self.d
        sampler = S.GlobalBatches(len(self.ds), a.batch_size, d.world, d.rank, a.seed, self.st['batches'])
        self.per_epoch = sampler.per_epoch
        return iter(torch.utils.data.DataLoader(
            S.Keyed(self.ds), batch_sampler=sampler, collate_fn=S.collate_or_none,
            num_workers=a.loader_num_workers, pin_memory=d.device.type == 'cuda',
            persistent_workers=a.loader_num_workers > 0))

    def batch_to(self, b):
        dev = self.d.device
        return {k: (v.to(dev, non_blocking=True) if torch.is_tensor(v) else v) for k, v in b.items()}

    def loop(self):
        a, st_ = self.a, self.st
        if st_['t'] >= a.num_iterations:
            self.log('Already at t = %d of %d iterations; nothing to do' % (st_['t'], a.num_iterations))
            return
        self.rewrite_log()
        self.log('Training set: %d images, %d process(es) x batch %d; generator %d parameters'
                 % (len(self.ds), self.d.world, a.batch_size, sum(p.numel() for p in self.nets.G.parameters())))
        it = self.loader()
        start_t, last_ck, t0 = st_['t'], -1, time.time()
        while st_['t'] < a.num_iterations:
            if self.d.any(self.stop):
                break
            began = time.time()
            b = next(it)
            st_['batches'] += 1
            st_['epoch'] = (st_['batches'] - 1) // self.per_epoch + 1
            if b is None:
                continue  # a last batch too small to share across processes
            if st_['t'] == a.eval_mode_after and not st_['eval_mode']:
                self.log('Switching the generator to eval mode (t = %d), with a fresh optimiser as the release does'
                         % st_['t'])
                st_['eval_mode'] = True
                self.nets.G.eval()
                self.nets.opt_g = torch.optim.Adam(self.nets.G.parameters(), lr=a.learning_rate)
                self.step.opt_g = self.nets.opt_g
            st_['t'] += 1
            b = self.batch_to(b)
            noise = None
            if self.nets.G.layout_noise_dim:
                H, W = self.nets.G.image_size
                noise = image_noise(a.seed, st_['t'], b['index'], self.nets.G.layout_noise_dim, H, W).to(self.d.device)
            eps = None
            if self.nets.G.appearance_dim:
                eps = appearance_eps(a.seed, st_['t'], b['index'], b['obj_to_img'],
                                     self.nets.G.appearance_dim).to(self.d.device)
            losses, _ = self.step(b, noise=noise, eps=eps)
            if a.dump_grads and self.d.main:
                self.dump_grads(os.path.join(a.dump_grads, 't%d.safetensors' % st_['t']))
            st_['elapsed_s'] += time.time() - began
            rec = {'t': st_['t'], 'epoch': st_['epoch']}
            if losses is None:
                st_['skipped'] += 1
                rec['skipped'] = True
                self.log('warning: t = %d: total loss is not finite; not backpropagating' % st_['t'])
            elif st_['t'] % a.print_every == 0:
                rec.update((k, losses[k]) for k in LOSS_ORDER if k in losses)
                self.log('t = %d / %d (epoch %d, %.2f it/s): %s' % (
                    st_['t'], a.num_iterations, st_['epoch'], (st_['t'] - start_t) / max(time.time() - t0, 1e-9),
                    ', '.join('%s %.4f' % (k, losses[k]) for k in LOSS_ORDER if k in losses)))
            if len(rec) > 2:
                rec['elapsed_s'] = round(st_['elapsed_s'], 3)
                rec['time'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
                self.record(rec)
            if st_['t'] % a.checkpoint_every == 0 and st_['t'] < a.num_iterations:
                self.checkpoint()
                last_ck = st_['t']
        if st_['t'] > start_t and last_ck != st_['t']:
            self.checkpoint()
        self.log(('Interrupted at t = %d: checkpoint written; continue with --restore_from_checkpoint 1'
                  if self.stop else 'Done: t = %d, %d step(s) skipped') % ((st_['t'],) if self.stop else
                                                                           (st_['t'], st_['skipped'])))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    a = parser().parse_args(argv)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    d = Dist(a.device)
    os.makedirs(a.output_dir, exist_ok=True)
    try:
        r = Run(a, given_flags(argv), d)
    except S.ShardError as e:
        fail(str(e), 4)

    def on_signal(sig, frame):
        if r.stop:
            raise KeyboardInterrupt
        r.stop = True
        r.log('\nstopping after this iteration to write a checkpoint (signal again to abort without one)')
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    r.loop()
    if d.group is not None:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
