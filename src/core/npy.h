// NumPy .npy read/write for kiln tensors (the on-disk tensor format of `kiln run` and friends).
//
// File layout (numpy.lib.format, versions 1.0, 2.0, 3.0):
//
//   offset 0  6 bytes   magic "\x93NUMPY"
//   offset 6  1 byte    major version (1, 2 or 3)
//   offset 7  1 byte    minor version (0)
//   offset 8  2 bytes   header length HLEN, little-endian uint16 (version 1.0)
//          or 4 bytes   header length HLEN, little-endian uint32 (versions 2.0 and 3.0)
//   then      HLEN      header: a Python dict literal, latin-1 (1.0, 2.0) or UTF-8 (3.0), padded
//                       with spaces and ending in '\n', e.g.
//                       {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   then      data      prod(shape) * itemsize bytes in C order, nothing after them.
//
// Reading accepts the numeric and bool descrs ('|b1', '|i1'..'<i8', '|u1'..'<u8', '<f2', '<f4',
// '<f8', '<c8', '<c16'); '>' (big-endian) arrays are byte-swapped to native order, '=', '|' and
// no prefix mean native order as in numpy. Object arrays, strings, structured records,
// datetimes, void and Fortran-ordered arrays are refused with a coded error. Nothing is
// allocated for the data until the file is known to hold exactly the bytes the header declares.
//
// Writing produces what numpy.save writes, byte for byte: version 1.0 (2.0 when the header does
// not fit 65535 bytes), data starting at a multiple of 64 bytes, native (little-endian) descr.
// bfloat16, float8, int4/uint4, float4 and string tensors have no standard descr and are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/status.h"
#include "kiln/tensor.h"

namespace kiln::npy {

// Reads a .npy file into an owning tensor. FileNotFound / FileUnreadable for the path itself;
// Npy* codes, InvalidShape or AllocationFailed for its contents.
Result<Tensor> read_file(const std::string& path);

// Reads a whole .npy image held in memory; `what` names the source in messages (a path or
// "buffer"). The result owns its data (copied out of `data`).
Result<Tensor> read_memory(const void* data, size_t size, const std::string& what);

// Writes `tensor` as a .npy file; on failure no partial file is left behind.
Status write_file(const std::string& path, const Tensor& tensor);

// The bytes write_file would write.
Result<std::vector<uint8_t>> write_memory(const Tensor& tensor);

}  // namespace kiln::npy
