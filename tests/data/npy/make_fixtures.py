"""Regenerates the .npy fixtures read by tests/unit/test_npy.cpp.

Run from anywhere with numpy installed:  python tests/data/npy/make_fixtures.py
The values are simple functions of the element index i (0..5); test_npy.cpp hard-codes the same
formulas, so a change here needs the matching change there.
"""
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
I = np.arange(6)


def save(name, array, **kw):
    np.save(os.path.join(HERE, name), array, **kw)


def write_version(name, array, version):
    with open(os.path.join(HERE, name), "wb") as f:
        npformat.write_array(f, array, version=version)


# One (2, 3) array per supported dtype. Scales are chosen so every byte of the element is used.
dtypes = {
    "bool": (I % 3 == 0),
    "int8": (I - 3) * 40,
    "int16": (I - 3) * 10000,
    "int32": (I - 3) * 700000000,
    "int64": (I - 3) * 3000000000000000000,
    "uint8": I * 50,
    "uint16": I * 13000,
    "uint32": I * 850000000,
    "uint64": I.astype(np.uint64) * np.uint64(3600000000000000000),
    "float16": (I - 3) * 0.25,
    "float32": (I - 3) * 0.1,
    "float64": (I - 3) * 0.1,
    "complex64": (I - 3) * 0.5 + 1j * (I * 0.25),
    "complex128": (I - 3) * 0.1 + 1j * (I * 0.3),
}
for name, values in dtypes.items():
    save(f"{name}.npy", np.asarray(values).astype(name).reshape(2, 3))

f32 = ((I - 3) * 0.1).astype(np.float32).reshape(2, 3)
save("scalar_f64.npy", np.array(2.5, dtype=np.float64))
save("empty_0x3_f32.npy", np.zeros((0, 3), dtype=np.float32))
save("vector5_i64.npy", np.arange(5, dtype=np.int64))
save("rank3_2x1x3_i32.npy", ((I - 3) * 700000000).astype(np.int32).reshape(2, 1, 3))
# numpy's growth padding after the dict pushes this header into a second 64-byte block.
save("rank20_f32.npy", np.full((1,) * 20, 1.5, dtype=np.float32))
# Big-endian arrays hold the same values as the little-endian fixtures above.
save("big_endian_f4.npy", f32.astype(">f4"))
save("big_endian_i2.npy", ((I - 3) * 10000).astype(">i2").reshape(2, 3))
save("big_endian_c8.npy", ((I - 3) * 0.5 + 1j * (I * 0.25)).astype(">c8").reshape(2, 3))
write_version("version2_f32.npy", f32, (2, 0))
write_version("version3_f32.npy", f32, (3, 0))
# Arrays kiln refuses.
save("fortran_f32.npy", np.asfortranarray(f32))
save("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
save("unicode_u3.npy", np.array(["abc", "de"], dtype="<U3"))
save("bytes_s3.npy", np.array([b"abc", b"de"], dtype="S3"))
save("structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))
save("datetime.npy", np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]"))
