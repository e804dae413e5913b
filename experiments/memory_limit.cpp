#include "experiments/memory_limit.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <string>

namespace timely::experiments {
namespace {

constexpr double gib = 1u << 30;

// A kB figure of /proc/self/status (VmSize, VmData, VmRSS) in bytes, or 0.
double status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) * 1024.0;
  return 0.0;
}

// The first number in a file, or nullopt ("max", absent, unreadable).
double file_number(const std::string& path) {
  std::ifstream in(path);
  double value = 0.0;
  if (in >> value) return value;
  return std::numeric_limits<double>::infinity();
}

// cgroup v2: memory.max of this process's group (from /proc/self/cgroup's "0::/path"), or
// v1's memory.limit_in_bytes; infinity where there is none (v1 writes 2^63 - 4096 for none).
double cgroup_limit() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, group;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) group = line.substr(3);
  double limit = std::numeric_limits<double>::infinity();
  if (!group.empty()) limit = file_number("/sys/fs/cgroup" + (group == "/" ? std::string() : group) + "/memory.max");
  if (limit == std::numeric_limits<double>::infinity()) limit = file_number("/sys/fs/cgroup/memory.max");
  if (limit == std::numeric_limits<double>::infinity()) limit = file_number("/sys/fs/cgroup/memory/memory.limit_in_bytes");
  return limit >= 0x1p62 ? std::numeric_limits<double>::infinity() : limit;
}

double soft_limit(int resource) {
  struct rlimit r{};
  if (getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return std::numeric_limits<double>::infinity();
  return static_cast<double>(r.rlim_cur);
}

}  // namespace

MemoryLimit memory_limit() {
  MemoryLimit best{std::numeric_limits<double>::infinity(), "no limit"};
  const auto consider = [&](const char* name, double limit, double in_use) {
    if (!(limit < std::numeric_limits<double>::infinity())) return;
    const double left = limit - in_use;
    if (left < best.bytes)
      best = MemoryLimit{left, fmt::format("{} ({:.1f} GiB, {:.1f} GiB in use)", name, limit / gib, in_use / gib)};
  };
  const double rss = status_bytes("VmRSS");
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) consider("physical memory", static_cast<double>(pages) * static_cast<double>(page), rss);
  consider("the cgroup's memory.max", cgroup_limit(), rss);
  consider("RLIMIT_AS", soft_limit(RLIMIT_AS), status_bytes("VmSize"));
  consider("RLIMIT_DATA", soft_limit(RLIMIT_DATA), status_bytes("VmData"));
  return best;
}

}  // namespace timely::experiments
