#include "onnx_import/model_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "core/errors.h"

namespace kiln::onnx_import {
namespace fs = std::filesystem;

Result<std::vector<uint8_t>> read_model_file(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return err(Code::kFileNotFound, "model file '", path, "' does not exist");
  if (!fs::is_regular_file(st))
    return err(Code::kFileUnreadable, "'", path, "' is not a regular file");
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return err(Code::kFileUnreadable, "cannot stat '", path, "': ", ec.message());
  if (size > kMaxProtobufBytes)
    return err(Code::kModelTooLarge, "'", path, "' is ", size, " bytes; a single protobuf message ",
               "is limited to ", kMaxProtobufBytes, " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) return err(Code::kFileUnreadable, "cannot open '", path, "' for reading");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    return err(Code::kFileUnreadable, "read of '", path, "' stopped after ", in.gcount(), " of ",
               size, " bytes");
  return bytes;
}

std::string sniff_format(const uint8_t* data, size_t size) {
  auto starts = [&](std::string_view magic) {
    return size >= magic.size() && std::memcmp(data, magic.data(), magic.size()) == 0;
  };
  if (starts("PK\x03\x04")) return "a ZIP archive (TorchScript .pt, PyTorch checkpoint or .npz)";
  if (starts("\x93NUMPY")) return "a NumPy .npy array";
  if (starts("\x89HDF")) return "an HDF5 file (Keras .h5)";
  if (starts("KILNENG")) return "a kiln engine (pass it to `kiln run`, not `kiln check`)";
  if (starts("\x80\x02") || starts("\x80\x04") || starts("\x80\x05")) return "a Python pickle";
  if (starts("GGUF")) return "a GGUF model";
  if (starts("<!DOCTYPE") || starts("<html") || starts("<HTML") || starts("<?xml"))
    return "an HTML/XML text page (often an error page saved by a failed download)";
  if (starts("version https://git-lfs"))
    return "a Git LFS pointer file (run `git lfs pull` to fetch the real model)";
  if (starts("{") || starts("[")) return "JSON text";
  return "";
}

namespace {

// Wire-format walk. Only structure is validated (tags, lengths); field meanings stay with
// protobuf. Names of the fields on the path to the problem make the message actionable.
enum class Msg { kModel, kGraph, kNode, kTensor, kAttribute, kOther };

struct FieldName {
  Msg msg;
  uint32_t number;
  const char* name;
  Msg child;
};

constexpr FieldName kFields[] = {
    {Msg::kModel, 1, "ir_version", Msg::kOther},       {Msg::kModel, 2, "producer_name", Msg::kOther},
    {Msg::kModel, 7, "graph", Msg::kGraph},            {Msg::kModel, 8, "opset_import", Msg::kOther},
    {Msg::kModel, 14, "metadata_props", Msg::kOther},  {Msg::kModel, 25, "functions", Msg::kOther},
    {Msg::kGraph, 1, "node", Msg::kNode},              {Msg::kGraph, 2, "name", Msg::kOther},
    {Msg::kGraph, 5, "initializer", Msg::kTensor},     {Msg::kGraph, 11, "input", Msg::kOther},
    {Msg::kGraph, 12, "output", Msg::kOther},          {Msg::kGraph, 13, "value_info", Msg::kOther},
    {Msg::kNode, 1, "input", Msg::kOther},             {Msg::kNode, 2, "output", Msg::kOther},
    {Msg::kNode, 3, "name", Msg::kOther},              {Msg::kNode, 4, "op_type", Msg::kOther},
    {Msg::kNode, 5, "attribute", Msg::kAttribute},     {Msg::kAttribute, 5, "t", Msg::kTensor},
    {Msg::kAttribute, 6, "g", Msg::kGraph},            {Msg::kAttribute, 11, "graphs", Msg::kGraph},
    {Msg::kTensor, 1, "dims", Msg::kOther},            {Msg::kTensor, 8, "name", Msg::kOther},
    {Msg::kTensor, 9, "raw_data", Msg::kOther},
};

const FieldName* field_name(Msg msg, uint32_t number) {
  for (const FieldName& f : kFields)
    if (f.msg == msg && f.number == number) return &f;
  return nullptr;
}

struct Walker {
  const uint8_t* base;
  size_t size;
  std::string what;
  int depth = 0;

  bool varint(size_t& pos, size_t end, uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= end) return false;
      uint8_t b = base[pos++];
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }

  // Returns OK when [pos, end) is structurally valid for `msg`.
  Status walk(Msg msg, size_t pos, size_t end, const std::string& path) {
    if (++depth > 64) return Status::Ok();  // protobuf's own recursion limit will report it
    int index = 0;
    while (pos < end) {
      const size_t tag_pos = pos;
      uint64_t tag;
      if (!varint(pos, end, tag)) {
        if (end == size && pos >= end) return truncated(tag_pos, path, "a field tag", 1, 0);
        return not_onnx(tag_pos, path, "an unterminated field tag");
      }
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      const uint32_t wire = static_cast<uint32_t>(tag & 7);
      if (number == 0 || wire == 3 || wire == 4 || wire > 5)
        return not_onnx(tag_pos, path, str("byte 0x", std::hex, int(base[tag_pos]), std::dec,
                                           " (field ", number, ", wire type ", wire, ")"));
      const FieldName* f = field_name(msg, number);
      std::string here = path + "." + (f ? f->name : "field" + std::to_string(number));
      switch (wire) {
        case 0: {
          uint64_t v;
          if (!varint(pos, end, v)) return truncated(tag_pos, here, "a varint", 1, end - pos);
          break;
        }
        case 1:
        case 5: {
          const size_t n = wire == 1 ? 8 : 4;
          if (end - pos < n) return truncated(tag_pos, here, "a fixed-size value", n, end - pos);
          pos += n;
          break;
        }
        case 2: {
          uint64_t len;
          if (!varint(pos, end, len)) return truncated(tag_pos, here, "a length", 1, end - pos);
          if (len > end - pos) return truncated(tag_pos, here, "its payload", len, end - pos);
          if (f && f->child != Msg::kOther) {
            std::string item = here + "[" + std::to_string(index++) + "]";
            KILN_RETURN_IF_ERROR(walk(f->child, pos, pos + len, item));
          }
          pos += len;
          break;
        }
      }
    }
    --depth;
    return Status::Ok();
  }

  Status truncated(size_t offset, const std::string& path, const char* part, uint64_t need,
                   uint64_t have) {
    return err(Code::kTruncatedModel, what, " (", size, " bytes): ", path, " at byte ", offset,
               " needs ", part, " of ", need, " byte(s) but only ", have,
               " remain; the file ends early");
  }

  Status not_onnx(size_t offset, const std::string& path, const std::string& detail) {
    std::string sniff = sniff_format(base, size);
    return err(Code::kNotOnnx, what, " is not an ONNX ModelProto: invalid protobuf at byte ",
               offset, " (", path, "): ", detail,
               sniff.empty() ? "" : "; the file looks like " + sniff);
  }
};

}  // namespace

Status diagnose_unparseable(const uint8_t* data, size_t size, const std::string& what) {
  std::string sniff = sniff_format(data, size);
  if (!sniff.empty())
    return err(Code::kNotOnnx, what, " is not an ONNX model: it looks like ", sniff);
  if (size == 0) return err(Code::kNotOnnx, what, " is empty (0 bytes)");
  Walker w{data, size, what};
  Status s = w.walk(Msg::kModel, 0, size, "model");
  if (!s.ok()) return s;
  return err(Code::kNotOnnx, what, " (", size,
             " bytes) has valid protobuf framing but does not decode as an onnx.ModelProto "
             "(a field holds a value of the wrong kind)");
}

}  // namespace kiln::onnx_import
