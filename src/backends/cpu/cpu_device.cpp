// The CPU device: aligned host memory, worker-thread queues, and the CPU tactics.
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "backends/backend.h"
#include "backends/cpu/cpu_tactics.h"
#include "backends/cpu/cpu_threads.h"
#include "backends/cpu/dnnl_util.h"
#include "core/errors.h"
#include "engine/engine_file.h"

namespace kiln::backends {
namespace {

class HostBuffer final : public Buffer {
 public:
  HostBuffer(void* p, uint64_t n) : p_(p), n_(n) {}
  ~HostBuffer() override { std::free(p_); }
  void* data() override { return p_; }
  uint64_t size() const override { return n_; }

 private:
  void* p_;
  uint64_t n_;
};

// One worker thread per queue, started on first use: work submitted to one queue runs in
// order, queues run in parallel.
class ThreadQueue final : public Queue {
 public:
  ~ThreadQueue() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  void submit(std::function<Status()> work) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!worker_.joinable()) worker_ = std::thread([this] { loop(); });
    todo_.push_back(std::move(work));
    ++pending_;
    cv_.notify_all();
  }
  Status wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return pending_ == 0; });
    Status s = std::move(first_error_);
    first_error_ = Status::Ok();
    return s;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || !todo_.empty(); });
      if (todo_.empty()) return;
      std::function<Status()> work = std::move(todo_.front());
      todo_.pop_front();
      lock.unlock();
      Status s = work();
      lock.lock();
      if (!s.ok() && first_error_.ok()) first_error_ = std::move(s);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::deque<std::function<Status()>> todo_;
  int64_t pending_ = 0;
  bool stop_ = false;
  Status first_error_;
  std::thread worker_;
};

class CpuDevice final : public Device {
 public:
  CpuDevice() : tactics_(cpu_tactics()) {}
  DeviceKind kind() const override { return DeviceKind::kCpu; }
  const engine::Fingerprint& fingerprint() const override { return engine::host_fingerprint(); }
  Result<std::unique_ptr<Buffer>> allocate(uint64_t bytes) override {
    // aligned_alloc needs a size that is a multiple of the alignment (and > 0).
    const uint64_t a = engine::kArenaAlignment;
    if (bytes > (uint64_t{1} << 46))
      return err(Code::kAllocationFailed, "refusing to allocate ", bytes, " bytes of host memory");
    const uint64_t n = std::max<uint64_t>(a, (bytes + a - 1) / a * a);
    void* p = cpu::alloc_large(n);  // huge pages for large arenas (64-byte aligned at least)
    if (p == nullptr)
      return err(Code::kAllocationFailed, "could not allocate ", n, " bytes of host memory");
    return std::unique_ptr<Buffer>(new HostBuffer(p, bytes));
  }
  std::unique_ptr<Queue> create_queue() override { return std::make_unique<ThreadQueue>(); }
  void set_intra_op_threads(int n) override { cpu::set_intra_op_threads(n); }
  void run_finished() override { cpu::release_workers(); }
  const std::vector<const Tactic*>& tactics() const override { return tactics_; }

 private:
  std::vector<const Tactic*> tactics_;
};

}  // namespace

const Tactic* Device::find_tactic(std::string_view name) const {
  for (const Tactic* t : tactics())
    if (t->name() == name) return t;
  return nullptr;
}

std::unique_ptr<Queue> make_thread_queue() {
  return std::make_unique<ThreadQueue>();
}

#ifdef KILN_HAVE_CUDA
Result<Device*> cuda_device();  // cuda/cuda_device.cpp
#endif

Result<Device*> device_for(DeviceKind kind) {
  if (kind == DeviceKind::kCpu) {
    static CpuDevice cpu;
    return static_cast<Device*>(&cpu);
  }
#ifdef KILN_HAVE_CUDA
  if (kind == DeviceKind::kCuda) return cuda_device();
#endif
  return err(Code::kDeviceUnavailable, "device '", device_kind_name(kind),
             "' is not available in this kiln build (backends compiled in: cpu",
#ifdef KILN_HAVE_CUDA
             ", cuda",
#endif
             ")");
}

}  // namespace kiln::backends
