// The host fingerprint (architecture, ISA features, CPU name) and target compatibility.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "engine/engine_file.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace kiln::engine {
namespace {

const char* arch_name() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__arm__)
  return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#else
  return "unknown";
#endif
}

#if defined(__x86_64__) || defined(__i386__)

struct Regs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf) {
  Regs r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) return Regs{};
  return r;
}

bool bit(unsigned reg, int n) {
  return (reg >> n) & 1u;
}

// XCR0: which register states the OS saves on context switches. A CPU feature is usable only
// when its state is enabled too (an OS without AVX-512 support leaves ZMM state off).
uint64_t xcr0() {
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

void x86_features(std::vector<std::string>& out) {
  const Regs l0 = cpuid(0, 0);
  const unsigned max_leaf = l0.eax;
  if (max_leaf < 1) return;
  const Regs l1 = cpuid(1, 0);
  const bool osxsave = bit(l1.ecx, 27);
  const uint64_t xcr = osxsave ? xcr0() : 0;
  const bool avx_state = (xcr & 0x6) == 0x6;                    // SSE + AVX (YMM) state
  const bool avx512_state = avx_state && (xcr & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  // AMX tile state (XTILECFG, XTILEDATA). Linux additionally wants each process to request it
  // (arch_prctl ARCH_REQ_XCOMP_PERM) before the first tile instruction; AMX kernels do that.
  const bool amx_state = (xcr & 0x60000) == 0x60000;

  auto add = [&](bool has, const char* name) {
    if (has) out.emplace_back(name);
  };
  add(bit(l1.edx, 26), "sse2");
  add(bit(l1.ecx, 0), "sse3");
  add(bit(l1.ecx, 9), "ssse3");
  add(bit(l1.ecx, 19), "sse4_1");
  add(bit(l1.ecx, 20), "sse4_2");
  add(bit(l1.ecx, 23), "popcnt");
  add(avx_state && bit(l1.ecx, 28), "avx");
  add(avx_state && bit(l1.ecx, 12), "fma");
  add(avx_state && bit(l1.ecx, 29), "f16c");
  if (max_leaf < 7) return;
  const Regs l7 = cpuid(7, 0);
  add(bit(l7.ebx, 3), "bmi1");
  add(bit(l7.ebx, 8), "bmi2");
  add(avx_state && bit(l7.ebx, 5), "avx2");
  add(avx512_state && bit(l7.ebx, 16), "avx512f");
  add(avx512_state && bit(l7.ebx, 17), "avx512dq");
  add(avx512_state && bit(l7.ebx, 28), "avx512cd");
  add(avx512_state && bit(l7.ebx, 30), "avx512bw");
  add(avx512_state && bit(l7.ebx, 31), "avx512vl");
  add(avx512_state && bit(l7.ecx, 1), "avx512_vbmi");
  add(avx512_state && bit(l7.ecx, 11), "avx512_vnni");
  add(avx512_state && bit(l7.edx, 23), "avx512_fp16");
  add(amx_state && bit(l7.edx, 22), "amx_bf16");
  add(amx_state && bit(l7.edx, 24), "amx_tile");
  add(amx_state && bit(l7.edx, 25), "amx_int8");
  if (l7.eax >= 1) {
    const Regs l71 = cpuid(7, 1);
    add(avx_state && bit(l71.eax, 4), "avx_vnni");
    add(avx512_state && bit(l71.eax, 5), "avx512_bf16");
  }
}

std::string x86_brand() {
  if (cpuid(0x80000000u, 0).eax < 0x80000004u) return {};
  char brand[49] = {};
  for (unsigned i = 0; i < 3; ++i) {
    const Regs r = cpuid(0x80000002u + i, 0);
    std::memcpy(brand + 16 * i, &r.eax, 4);
    std::memcpy(brand + 16 * i + 4, &r.ebx, 4);
    std::memcpy(brand + 16 * i + 8, &r.ecx, 4);
    std::memcpy(brand + 16 * i + 12, &r.edx, 4);
  }
  return brand;
}

#elif defined(__aarch64__) && defined(__linux__)

// Linux HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h), spelled out so no kernel header is
// needed.
void arm_features(std::vector<std::string>& out) {
  const unsigned long hw = getauxval(AT_HWCAP);
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  auto add = [&](bool has, const char* name) {
    if (has) out.emplace_back(name);
  };
  add(hw & (1ul << 1), "asimd");
  add(hw & (1ul << 10), "asimdhp");
  add(hw & (1ul << 20), "asimddp");
  add(hw & (1ul << 22), "sve");
  add(hw2 & (1ul << 1), "sve2");
  add(hw2 & (1ul << 13), "i8mm");
  add(hw2 & (1ul << 14), "bf16");
}

#endif

// Squeezes runs of spaces (Intel pads the brand string) and trims the ends.
std::string tidy(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

Fingerprint detect() {
  Fingerprint f;
  f.device = "cpu";
  f.arch = arch_name();
#if defined(__x86_64__) || defined(__i386__)
  x86_features(f.features);
  f.cpu_name = tidy(x86_brand());
#elif defined(__aarch64__) && defined(__linux__)
  arm_features(f.features);
#endif
  std::sort(f.features.begin(), f.features.end());
  return f;
}

}  // namespace

std::string Fingerprint::to_string() const {
  std::string s = device.empty() ? "?" : device;
  s += " ";
  s += arch.empty() ? "?" : arch;
  s += " [";
  for (size_t i = 0; i < features.size(); ++i) s += (i ? ", " : "") + features[i];
  s += "]";
  if (!cpu_name.empty()) s += " (" + cpu_name + ")";
  return s;
}

const Fingerprint& host_fingerprint() {
  static const Fingerprint kHost = detect();
  return kHost;
}

std::vector<std::string> missing_capabilities(const Fingerprint& target, const Fingerprint& host) {
  std::vector<std::string> missing;
  // An empty device or arch in the target places no constraint.
  if (!target.device.empty() && target.device != host.device)
    missing.push_back("device " + target.device);
  if (!target.arch.empty() && target.arch != host.arch) missing.push_back("arch " + target.arch);
  const std::set<std::string> offered(host.features.begin(), host.features.end());
  for (const std::string& f : target.features)
    if (!offered.count(f)) missing.push_back(f);
  return missing;
}

}  // namespace kiln::engine
