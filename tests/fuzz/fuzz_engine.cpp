// libFuzzer target for the .engine reader (src/engine/engine_file.h).
//
// Every input must come back as a coded result: a crash, abort, sanitizer report, leak,
// timeout or runaway allocation is a bug. Random edits almost never keep the checksum right,
// so besides the input as given (which exercises magic/size/version/checksum and, through
// read_engine_model — which skips the checksum — the graph decoder), a copy with the checksum
// re-stamped goes through read_engine too: that is what fuzzes the metadata decoder and the
// metadata/graph cross-checks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine_file.h"
#include "kiln/engine.h"

namespace {

volatile uint64_t g_sink = 0;

// Reads every byte of every numeric tensor (initializers and tensor attributes, at any depth)
// so ASan sees a view that points outside the input; strings are touched too.
uint64_t touch(const kiln::ir::Graph& g);

uint64_t touch(const kiln::Tensor& t) {
  uint64_t sum = 0;
  if (t.dtype() == kiln::DataType::kString) {
    for (const std::string& s : t.string_data())
      for (char c : s) sum += static_cast<uint8_t>(c);
    return sum;
  }
  const auto* p = static_cast<const uint8_t*>(t.data());
  for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
  return sum;
}

uint64_t touch(const kiln::ir::Graph& g) {
  uint64_t sum = g.num_values();
  for (const kiln::ir::Value* v : g.initializers()) sum += touch(*v->initializer());
  for (const kiln::ir::Node* n : g.nodes())
    for (const kiln::ir::Attribute& a : n->attributes()) {
      sum += touch(a.t);
      for (const kiln::Tensor& t : a.tensors) sum += touch(t);
      if (a.g) sum += touch(*a.g);
      for (const auto& sub : a.graphs)
        if (sub) sum += touch(*sub);
    }
  return sum;
}

void read(const uint8_t* data, size_t size) {
  using namespace kiln::engine;
  const ByteSpan file{data, size};
  auto engine = read_engine(file, host_fingerprint());
  uint64_t n = engine.ok() ? engine->layers.size() + engine->profiles.size()
                           : engine.status().to_string().size();
  auto model = read_engine_model(file);
  if (model.ok())
    n += touch(*(*model)->graph);
  else
    n += model.status().message().size();
  g_sink = g_sink + n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes: reads past the end hit ASan's redzone.
  std::vector<uint8_t> copy(data, data + size);
  read(copy.data(), copy.size());
  kiln::engine::restamp_checksum(copy);
  read(copy.data(), copy.size());
  // What the runtime adds on top of the reader: binding layers to tactics, resolving the memory
  // plans, creating a context (its arena), answering metadata queries.
  auto engine = kiln::Engine::deserialize(copy);
  if (engine.ok() && (*engine)->arena_bytes(0) < (uint64_t{1} << 28)) {
    auto ctx = (*engine)->create_context();
    uint64_t n = ctx.ok() ? 1 : ctx.status().message().size();
    for (const kiln::TensorInfo& t : (*engine)->io_tensors()) {
      n += t.shape.size();
      auto r = (*engine)->profile_shape(0, t.name);
      if (r.ok()) n += r->max.size();
      if (ctx.ok()) n += (*ctx)->tensor_shape(t.name).ok();
    }
    g_sink = g_sink + n;
  }
  return 0;
}
