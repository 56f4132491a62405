// StringNormalizer: drops stop words from a [C] or [1, C] string tensor, then lower- or
// upper-cases what is left.
//
// Case mapping is Unicode's simple (one code point to one code point) mapping, which is what
// ONNX Runtime's std::ctype-based kernel applies and which no locale changes except Turkish,
// Azerbaijani and Lithuanian; those locales are rejected rather than silently mapped the
// generic way. The mapping comes from the C.UTF-8 locale, held in a locale_t of its own so
// the process-wide locale is never touched; where C.UTF-8 is missing only ASCII changes case.
#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ops/movement_util.h"
#include "ops/op_schema.h"

namespace kiln::ops {

namespace {

using ir::AttrType;

locale_t utf8_ctype() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return loc;
}

// Decodes UTF-8, rejecting overlong forms, surrogates and values above U+10FFFF.
std::optional<std::u32string> decode_utf8(std::string_view s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    // The lead byte gives the number of continuation bytes, its payload bits and the smallest
    // code point that needs this many bytes (anything below is an overlong encoding).
    int extra = 0;
    char32_t cp = c, min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
      min = 0x10000;
    } else if (c >= 0x80) {
      return std::nullopt;  // a stray continuation byte or an invalid lead byte
    }
    if (extra > 0 && i + static_cast<size_t>(extra) >= s.size()) return std::nullopt;
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

std::string encode_utf8(const std::u32string& s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return out;
}

enum class CaseChange { kNone, kLower, kUpper };

char32_t map_case(char32_t cp, CaseChange how) {
  if (how == CaseChange::kNone) return cp;
  const bool upper = how == CaseChange::kUpper;
  if (locale_t loc = utf8_ctype()) {
    const wint_t w = static_cast<wint_t>(cp);
    const wint_t m = upper ? towupper_l(w, loc) : towlower_l(w, loc);
    // A mapping outside Unicode would come from a broken locale table; keep the original.
    return m <= 0x10FFFF ? static_cast<char32_t>(m) : cp;
  }
  if (cp < 0x80)
    return static_cast<char32_t>(upper ? std::toupper(static_cast<int>(cp))
                                       : std::tolower(static_cast<int>(cp)));
  return cp;
}

std::u32string change_case(std::u32string s, CaseChange how) {
  for (char32_t& cp : s) cp = map_case(cp, how);
  return s;
}

// Locales whose case rules differ from the generic Unicode mapping (dotted/dotless i, and
// Lithuanian's retained dot above).
bool locale_has_special_casing(const std::string& locale) {
  std::string lang;
  for (char c : locale) {
    if (c == '_' || c == '-' || c == '.' || c == '@') break;
    lang += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lang == "tr" || lang == "az" || lang == "lt" || lang == "tur" || lang == "aze" ||
         lang == "lit";
}

Status string_normalizer_kernel(KernelContext& ctx) {
  constexpr std::string_view op = "StringNormalizer";
  KILN_ASSIGN_OR_RETURN(const Tensor* x, required_input(ctx, 0, op, "X"));
  if (x->dtype() != DataType::kString)
    return err(Code::kTypeUnsupported, op, " input must be string, got ",
               data_type_name(x->dtype()));
  const std::vector<int64_t>& shape = x->shape();
  if (!(shape.size() == 1 || (shape.size() == 2 && shape[0] == 1)))
    return err(Code::kInvalidArgument, op, " input ", shape_str(shape),
               " must have shape [C] or [1, C]");
  const std::string action = ctx.attr_string("case_change_action", "NONE");
  CaseChange how = CaseChange::kNone;
  if (action == "LOWER") {
    how = CaseChange::kLower;
  } else if (action == "UPPER") {
    how = CaseChange::kUpper;
  } else if (action != "NONE") {
    return err(Code::kAttributeValueUnsupported, op, " case_change_action '", action,
               "' is not one of LOWER, UPPER, NONE");
  }
  const std::string locale = ctx.attr_string("locale");
  if (locale_has_special_casing(locale))
    return err(Code::kAttributeValueUnsupported, op, " locale '", locale,
               "' has language-specific case rules; kiln applies the generic Unicode mapping "
               "only");
  const bool case_sensitive = ctx.attr_int("is_case_sensitive") != 0;

  // Case-insensitive matching compares lower-cased forms of both sides.
  std::unordered_set<std::u32string> stops;
  for (const std::string& w : ctx.attr_strings("stopwords")) {
    std::optional<std::u32string> d = decode_utf8(w);
    if (!d) return err(Code::kInvalidArgument, op, " stop word '", w, "' is not valid UTF-8");
    stops.insert(case_sensitive ? *d : change_case(*d, CaseChange::kLower));
  }

  std::vector<std::string> kept;
  const std::vector<std::string>& in = x->string_data();
  for (size_t i = 0; i < in.size(); ++i) {
    std::optional<std::u32string> d = decode_utf8(in[i]);
    if (!d) return err(Code::kInvalidArgument, op, " element ", i, " is not valid UTF-8");
    if (!stops.empty() &&
        stops.count(case_sensitive ? *d : change_case(*d, CaseChange::kLower)) > 0)
      continue;
    kept.push_back(encode_utf8(change_case(std::move(*d), how)));
  }
  // With every element dropped the output keeps one empty string, as ONNX specifies.
  if (kept.empty()) kept.emplace_back();
  const int64_t c = static_cast<int64_t>(kept.size());
  std::vector<int64_t> out_shape =
      shape.size() == 1 ? std::vector<int64_t>{c} : std::vector<int64_t>{1, c};
  KILN_ASSIGN_OR_RETURN(Tensor y, Tensor::strings(std::move(out_shape), std::move(kept)));
  ctx.set_output(0, std::move(y));
  return Status::Ok();
}

}  // namespace

void register_string_normalizer(OpRegistry& registry) {
  registry.add(OpSchema("StringNormalizer", 10)
                   .input("X", "T")
                   .output("Y", "T")
                   .types("T", {DataType::kString})
                   .attr("stopwords", AttrType::kStrings)
                   .attr("locale", AttrType::kString)
                   .attr_int_enum("is_case_sensitive", 0, {0, 1})
                   .attr_enum("case_change_action", "NONE", {"NONE", "LOWER", "UPPER"})
                   .fusion(FusionKind::kOpaque)
                   .kernel(string_normalizer_kernel));
}

}  // namespace kiln::ops
