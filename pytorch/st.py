"""Our safetensors format without the safetensors package: an 8-byte
little-endian header length, a JSON header (tensors' dtype, shape and byte
range; string metadata under "__metadata__"), then the raw little-endian
data. Debian ships no python3-safetensors, so this is the reader and writer
the PyTorch side uses; files are written atomically (a temporary file
renamed over the target)."""
import json
import os
import struct
import tempfile

import numpy as np
import torch

DTYPES = {'F64': np.float64, 'F32': np.float32, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32,
          'I16': np.int16, 'I8': np.int8, 'U8': np.uint8, 'BOOL': np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
# The most a header may claim, as weights.ReadSafetensors bounds it.
MAX_HEADER = 100 << 20


def read(path):
    """Returns (tensors: dict name -> torch tensor, metadata: dict)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError('%s: too short to be a safetensors file' % path)
    (n,) = struct.unpack('<Q', raw[:8])
    if n > min(MAX_HEADER, len(raw) - 8):
        raise ValueError('%s: header length %d exceeds the file; not a safetensors file' % (path, n))
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {}) or {}
    base = 8 + n
    out = {}
    for name, e in header.items():
        dt = DTYPES.get(e['dtype'])
        if dt is None:
            raise ValueError('%s: tensor %s has dtype %s, which this reader does not know' % (path, name, e['dtype']))
        a, b = e['data_offsets']
        count = int(np.prod(e['shape'], dtype=np.int64))
        if b - a != count * np.dtype(dt).itemsize or base + b > len(raw):
            raise ValueError('%s: tensor %s: byte range %d..%d does not fit its shape %s'
                             % (path, name, a, b, e['shape']))
        arr = np.frombuffer(raw, dtype=np.dtype(dt).newbyteorder('<'), count=count, offset=base + a)
        out[name] = torch.from_numpy(arr.astype(dt).reshape(e['shape']))
    return out, meta


def encode(tensors, metadata=None):
    """The bytes of a safetensors file: tensors (name -> tensor or array) in
    the given order, metadata values as strings."""
    header, chunks, off = {}, [], 0
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        if a.dtype not in NAMES:
            raise ValueError('tensor %s: dtype %s cannot be written' % (name, a.dtype))
        b = np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': NAMES[a.dtype], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)  # data 8-byte aligned, as the reference writer does
    return struct.pack('<Q', len(h)) + h + b''.join(chunks)


def write_atomic(path, data):
    """Writes bytes to path through a synced temporary file in the same
    directory, renamed over path: a reader sees the old file or the new."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix='.' + os.path.basename(path) + '.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write(path, tensors, metadata=None):
    write_atomic(path, encode(tensors, metadata))
