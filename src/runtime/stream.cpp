#include "runtime/stream_impl.h"

namespace kiln {
namespace runtime {
namespace {

class QueueStream final : public Stream {
 public:
  explicit QueueStream(std::unique_ptr<backends::Queue> q) : q_(std::move(q)) {}
  Status synchronize() override { return q_->wait(); }
  backends::Queue* queue() { return q_.get(); }

 private:
  std::unique_ptr<backends::Queue> q_;
};

}  // namespace

backends::Queue* queue_of(Stream& stream) {
  auto* s = dynamic_cast<QueueStream*>(&stream);
  return s ? s->queue() : nullptr;
}

}  // namespace runtime

Result<std::unique_ptr<Stream>> Stream::create(DeviceKind device) {
  KILN_ASSIGN_OR_RETURN(backends::Device * d, backends::device_for(device));
  return std::unique_ptr<Stream>(new runtime::QueueStream(d->create_queue()));
}

}  // namespace kiln
