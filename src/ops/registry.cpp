#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "ops/op_schema.h"

namespace kiln::ops {

// Each ops.def entry names a function defined in src/ops/<name>.cpp.
#define KILN_OPS(file) void register_##file(OpRegistry& registry);
#include "ops/ops.def"
#undef KILN_OPS

namespace {
bool same_op(const OpSchema& s, std::string_view domain, std::string_view op_type) {
  return s.domain() == domain && s.op_type() == op_type;
}
// "ai.onnx" and "" name the same default domain.
std::string_view canonical_domain(std::string_view d) {
  return d == "ai.onnx" ? "" : d;
}
}  // namespace

int64_t max_opset(std::string_view domain) {
  domain = canonical_domain(domain);
  if (domain == kTrainingDomain) return kTrainingOpset;
  if (domain == kKilnDomain) return kKilnOpset;
  return kMaxOpset;
}

int64_t effective_opset(std::string_view domain, int64_t opset) {
  return canonical_domain(domain).empty() ? std::clamp(opset, kMinOpset, kMaxOpset) : opset;
}

const OpRegistry& OpRegistry::builtin() {
  static const OpRegistry registry = [] {
    OpRegistry r;
#define KILN_OPS(file) register_##file(r);
#include "ops/ops.def"
#undef KILN_OPS
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpSchema schema) {
  schema.domain_ = std::string(canonical_domain(schema.domain_));
  for (const OpSchema& s : schemas_) {
    if (same_op(s, schema.domain(), schema.op_type()) && s.since() == schema.since()) {
      // Two definitions of one revision is a programming error in src/ops.
      std::fprintf(stderr, "kiln: internal error: op %s-%lld registered twice\n",
                   schema.op_type().c_str(), static_cast<long long>(schema.since()));
      std::abort();
    }
  }
  std::string domain = schema.domain(), op = schema.op_type();
  schemas_.push_back(std::move(schema));
  relink(domain, op);
}

void OpRegistry::relink(std::string_view domain, std::string_view op_type) {
  std::vector<OpSchema*> revs;
  for (OpSchema& s : schemas_)
    if (same_op(s, domain, op_type)) revs.push_back(&s);
  std::sort(revs.begin(), revs.end(),
            [](const OpSchema* a, const OpSchema* b) { return a->since() < b->since(); });
  for (size_t i = 0; i < revs.size(); ++i)
    revs[i]->until_ = i + 1 < revs.size() ? revs[i + 1]->since() - 1 : max_opset(domain);
}

const OpSchema* OpRegistry::find(std::string_view domain, std::string_view op_type,
                                 int64_t opset) const {
  domain = canonical_domain(domain);
  for (const OpSchema& s : schemas_)
    if (same_op(s, domain, op_type) && s.since() <= opset && opset <= s.until()) return &s;
  return nullptr;
}

std::vector<const OpSchema*> OpRegistry::revisions(std::string_view domain,
                                                   std::string_view op_type) const {
  domain = canonical_domain(domain);
  std::vector<const OpSchema*> out;
  for (const OpSchema& s : schemas_)
    if (same_op(s, domain, op_type)) out.push_back(&s);
  std::sort(out.begin(), out.end(),
            [](const OpSchema* a, const OpSchema* b) { return a->since() < b->since(); });
  return out;
}

bool OpRegistry::knows_domain(std::string_view domain) const {
  domain = canonical_domain(domain);
  return std::any_of(schemas_.begin(), schemas_.end(),
                     [&](const OpSchema& s) { return s.domain() == domain; });
}

std::vector<const OpSchema*> OpRegistry::all() const {
  std::vector<const OpSchema*> out;
  for (const OpSchema& s : schemas_) out.push_back(&s);
  std::sort(out.begin(), out.end(), [](const OpSchema* a, const OpSchema* b) {
    if (a->domain() != b->domain()) return a->domain() < b->domain();
    if (a->op_type() != b->op_type()) return a->op_type() < b->op_type();
    return a->since() < b->since();
  });
  return out;
}

std::vector<std::string> OpRegistry::op_types(std::string_view domain) const {
  domain = canonical_domain(domain);
  std::vector<std::string> out;
  for (const OpSchema& s : schemas_)
    if (s.domain() == domain && std::find(out.begin(), out.end(), s.op_type()) == out.end())
      out.push_back(s.op_type());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace kiln::ops
