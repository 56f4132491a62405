#include "core/errors.h"

#include <algorithm>
#include <cstdio>

namespace kiln {
namespace {

constexpr ErrorInfo kCatalog[] = {
// Category names in errors.def are the user-facing spellings; map them to enumerators. The extra
// macro level makes the preprocessor expand them before pasting `k`.
#define KILN_CATEGORY_(name) Category::k##name
#define KILN_CATEGORY(name) KILN_CATEGORY_(name)
#define KILN_ERROR(number, id, category, title, causes, fix) \
  {number, #id, KILN_CATEGORY(category), title, causes, fix},
#define IO_ERROR IoError
#define INTERNAL_ERROR InternalError
#define PARSE_ERROR ParseError
#define UNSUPPORTED_NODE UnsupportedNode
#define INVALID_ARGUMENT InvalidArgument
#define INVALID_CONFIG InvalidConfig
#define INVALID_STATE InvalidState
#define OUT_OF_MEMORY OutOfMemory
#define EXECUTION_FAILED ExecutionFailed
#define CALIBRATION_FAILED CalibrationFailed
#define ENGINE_INCOMPATIBLE EngineIncompatible
#define ENGINE_CORRUPT EngineCorrupt
#include "core/errors.def"
#undef KILN_ERROR
};

static_assert(sizeof(kCatalog) / sizeof(kCatalog[0]) > 0);

constexpr bool numbers_unique() {
  for (size_t i = 0; i < std::size(kCatalog); ++i)
    for (size_t j = i + 1; j < std::size(kCatalog); ++j)
      if (kCatalog[i].number == kCatalog[j].number) return false;
  return true;
}
static_assert(numbers_unique(), "errors.def: duplicate error number");

}  // namespace

std::span<const ErrorInfo> error_catalog() { return kCatalog; }

const ErrorInfo* find_error(int number) {
  auto it = std::find_if(std::begin(kCatalog), std::end(kCatalog),
                         [&](const ErrorInfo& e) { return e.number == number; });
  return it == std::end(kCatalog) ? nullptr : &*it;
}

std::string format_code(int number) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "K%04d", number);
  return buf;
}

}  // namespace kiln
