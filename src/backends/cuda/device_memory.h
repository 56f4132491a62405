// One cudaMalloc'd block, freed with its owner. An allocation the card cannot hold is
// OUT_OF_MEMORY (K6002) naming the bytes asked for and the bytes free, and what to shrink.
#pragma once

#include <cstdint>
#include <string_view>

#include "kiln/status.h"

namespace kiln::cuda {

class DeviceMemory {
 public:
  DeviceMemory() = default;
  // `what` says what the memory is for ("the activation arena of profile 0").
  static Result<DeviceMemory> allocate(uint64_t bytes, std::string_view what);
  DeviceMemory(DeviceMemory&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; }
  DeviceMemory& operator=(DeviceMemory&& o) noexcept;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory();

  void* get() const { return p_; }
  uint64_t size() const { return bytes_; }

 private:
  void* p_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace kiln::cuda
