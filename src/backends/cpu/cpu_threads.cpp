#include "backends/cpu/cpu_threads.h"

#include <omp.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace kiln::backends::cpu {

int physical_cores() {
  static const int cores = [] {
    // Distinct (physical id, core id) pairs; containers without /proc/cpuinfo details fall back
    // to the online CPU count.
    std::ifstream in("/proc/cpuinfo");
    std::set<std::pair<int, int>> seen;
    int phys = 0;
    std::string line;
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
      const std::string val = line.substr(colon + 1);
      if (key == "physical id") phys = std::atoi(val.c_str());
      if (key == "core id") seen.insert({phys, std::atoi(val.c_str())});
    }
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    int n = seen.empty() ? static_cast<int>(online) : static_cast<int>(seen.size());
    if (online > 0) n = std::min<int>(n, static_cast<int>(online));
    return std::max(1, n);
  }();
  return cores;
}

void set_intra_op_threads(int n) { omp_set_num_threads(n > 0 ? n : physical_cores()); }

int intra_op_threads() { return omp_get_max_threads(); }

void release_workers() { omp_pause_resource_all(omp_pause_soft); }

}  // namespace kiln::backends::cpu
