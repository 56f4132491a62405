// Engine: loading (mmap or bytes), metadata, and context creation.
#include "kiln/engine.h"

#include "core/errors.h"
#include "runtime/context.h"
#include "runtime/program.h"

namespace kiln {
namespace runtime {
namespace {

class EngineImpl final : public Engine, public std::enable_shared_from_this<EngineImpl> {
 public:
  explicit EngineImpl(std::shared_ptr<Program> p) : p_(std::move(p)) {}

  const std::vector<TensorInfo>& io_tensors() const override { return p_->io; }
  const TensorInfo* find_io_tensor(const std::string& name) const override {
    for (const TensorInfo& t : p_->io)
      if (t.name == name) return &t;
    return nullptr;
  }
  int num_profiles() const override { return static_cast<int>(p_->profiles.size()); }
  Result<ShapeRangeSpec> profile_shape(int profile, const std::string& input) const override {
    KILN_RETURN_IF_ERROR(check_profile_index(*p_, profile));
    for (size_t k = 0; k < p_->inputs.size(); ++k)
      if (p_->values[p_->inputs[k]].value->name() == input) {
        const engine::ShapeRange& r = p_->profiles[profile].ranges[k];
        return ShapeRangeSpec{r.min, r.opt, r.max};
      }
    return unknown_name(*p_, input, TensorIOMode::kInput);
  }
  uint64_t arena_bytes(int profile) const override {
    return profile >= 0 && profile < num_profiles() ? p_->profiles[profile].arena_bytes : 0;
  }
  DeviceKind device() const override { return p_->device->kind(); }
  size_t num_layers() const override { return p_->steps.size(); }
  void set_intra_op_threads(int threads) override { p_->threads = std::max(0, threads); }
  int intra_op_threads() const override { return p_->threads; }
  Result<std::unique_ptr<ExecutionContext>> create_context() override {
    return make_context(p_);
  }

 private:
  std::shared_ptr<Program> p_;
};

Result<std::shared_ptr<Engine>> finish(std::shared_ptr<Program> p, Logger* logger) {
  KILN_RETURN_IF_ERROR(load_program(*p, logger));
  return std::shared_ptr<Engine>(std::make_shared<EngineImpl>(std::move(p)));
}

}  // namespace
}  // namespace runtime

Result<std::shared_ptr<Engine>> Engine::load(const std::string& path, Logger* logger) {
  auto p = std::make_shared<runtime::Program>();
  KILN_ASSIGN_OR_RETURN(p->mapping, engine::MappedFile::open(path));
  p->bytes = p->mapping->bytes();
  return runtime::finish(std::move(p), logger);
}

Result<std::shared_ptr<Engine>> Engine::deserialize(const std::vector<uint8_t>& bytes,
                                                    Logger* logger) {
  auto p = std::make_shared<runtime::Program>();
  // Weights are views into these bytes; vector storage is at least 16-byte aligned, and the
  // format's 64-byte alignment is relative to the start, so copy into aligned memory.
  KILN_ASSIGN_OR_RETURN(Tensor storage, Tensor::allocate(DataType::kUInt8,
                                                         {static_cast<int64_t>(bytes.size())}));
  std::copy(bytes.begin(), bytes.end(), storage.data_as<uint8_t>());
  p->owned_storage = std::move(storage);
  p->bytes = {p->owned_storage.data_as<uint8_t>(), bytes.size()};
  return runtime::finish(std::move(p), logger);
}

}  // namespace kiln
