// libFuzzer target for the ONNX importer and `kiln check`.
//
// Every input, however hostile, must come back as a report: a crash, abort, sanitizer
// report, leak, timeout or runaway allocation here is a bug in kiln (or in libonnx/protobuf
// code that kiln chose to call on that input).
#include <cstddef>
#include <cstdint>
#include <string>

#include "ir/printer.h"
#include "onnx_import/checker.h"
#include "onnx_import/importer.h"

namespace {

// Keeps results observable so the work below is not optimised away.
volatile size_t g_sink = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln;

  // Parse, import, verify, op support and (for models libonnx knows) libonnx's checker
  // and shape inference: the whole of `kiln check`.
  onnx_import::CheckReport report = onnx_import::check_model_bytes(data, size);
  size_t n = static_cast<size_t>(report.errors() + report.warnings());
  // Diagnostics quote model-controlled names and values; formatting them is part of the
  // surface (`kiln check` prints every one).
  for (const Status& s : report.problems) n += s.to_string().size();

  // The importer alone, with external data "loaded" (refused: there is no directory), and
  // the IR printer on what it builds: `--dump-ir` prints whatever the importer accepted.
  auto imported = onnx_import::import_bytes(data, size);
  if (imported.ok() && imported->model.graph) n += ir::print(imported->model).size();

  g_sink = g_sink + n;
  return 0;
}
