// How the event rate and the resident memory scale with the number of users (issue 29), for
// the source model and the users model (K = 16 tracked sources), complete graph, uniform
// gossip, one thread, against two physical anchors measured by the same run:
//   - DRAM latency: a pointer chase over one big random cycle (Sattolo's algorithm), where
//     every load depends on the one before: ns per access, and its rate 1/latency;
//   - memory-level parallelism (MLP): random loads whose addresses do not depend on any
//     load, 16 independent streams, so the core keeps many misses in flight: accesses/s and
//     the ratio to the chase.
// An event that waits for one cache miss at a time cannot beat the chase's rate; one whose
// misses overlap can approach the MLP rate.
//
// Each (model, n, repetition) runs one trial in a forked child, so its peak resident set
// (VmHWM) is that trial's alone; repetitions are interleaved across n, so that a noisy spell
// of the machine hits every n alike, and the table gives medians. The rate is events over
// the trial's whole wall time, set-up included (as `timely simulate` counts it for every
// trial but its first; see --cold); each trial runs at least `--per-user` events per user so
// the set-up stays a small part. The graph is built before the clock starts.
//
// Usage: timely_scaling_bench [--max-n N] [--reps R] [--events E] [--per-user P]
//                             [--anchor-mib M] [--csv PATH] [--models source,users]
//                             [--draw-ahead auto|on|off] [--tracked K]
// --tracked sets the users model's K (default 16; 0: every user, as timely's default).
// Before the timed trial, the child runs the same scenario for 1/1000 of its horizon,
// untimed, so that the timed set-up finds warm memory; --cold times the first trial.
// n runs over powers of ten from 10^3 to --max-n (default 10^7; 10^8 needs about 0.4 GB for
// the source model and 7 GB for the users model). TIMELY_SCALING_MAX_N sets the default.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "sim/event_engine.hpp"
#include "sim/large_array.hpp"
#include "sim/random.hpp"
#include "sim/trial.hpp"

using namespace timely;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::uint64_t max_n = 10'000'000;
  int reps = 3;
  double events = 2e7;     // at least this many events per trial
  double per_user = 4.0;   // and at least this many per user
  std::size_t anchor_mib = 512;
  std::string csv = "scaling_events.csv";
  bool source = true, users = true;
  // auto: the engine's own choice; on/off: force the loop that draws ahead, or the plain
  // one (sim/event_engine.hpp; the same results either way).
  std::string draw_ahead = "auto";
  std::uint32_t tracked = 16;  // the users model's K (0: every user)
  // Run a short trial of the same size first, untimed, so that the timed trial's set-up
  // finds its memory warm, as every trial but a run's first does. On this VM the first
  // touch of fresh memory ran at 0.3 GB/s (the hypervisor backing it), then 2.7 GB/s.
  bool warm = true;
};

// A kB figure of /proc/self/status (VmRSS, VmHWM), or 0.
long status_kb(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  long kb = 0;
  const std::size_t len = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, len) == 0 && line[len] == ':') {
      kb = std::atol(line + len + 1);
      break;
    }
  std::fclose(f);
  return kb;
}

struct Point {
  double events = 0, seconds = 0;
  double rss_before_mb = 0, peak_mb = 0;
};

sim::Scenario scenario(bool source, std::uint64_t n, const Options& o) {
  sim::Scenario s;
  s.network.n = static_cast<std::uint32_t>(n);
  s.staleness.model = source ? sim::StalenessModel::source : sim::StalenessModel::users;
  if (!source) s.staleness.tracked = o.tracked;
  // Total event rate: n gossip clocks, plus the source's push and update clocks, or the K
  // tracked sources' update clocks.
  const double rate = s.gossip_rate() * static_cast<double>(n) +
                      (source ? s.source.push_rate + s.source.rate : s.updates.rate * s.tracked_sources());
  const double events = std::max(o.events, o.per_user * static_cast<double>(n));
  s.run.horizon = events / rate;
  s.run.warmup = s.run.horizon / 10;
  s.run.trials = 1;
  return s;
}

// One trial in this (child) process.
Point run_point(bool source, std::uint64_t n, int rep, const Options& o) {
  const sim::Scenario s = scenario(source, n, o);
  if (o.draw_ahead == "on") sim::engine::draw_ahead_from_bytes() = 0;
  if (o.draw_ahead == "off") sim::engine::draw_ahead_from_bytes() = ~std::size_t{0};
  Point p;
  p.rss_before_mb = status_kb("VmRSS") / 1024.0;
  const sim::Graph graph = sim::scenario_graph(s);
  if (o.warm) {
    sim::Scenario brief = s;
    brief.run.horizon = s.run.horizon / 1000;
    brief.run.warmup = brief.run.horizon / 10;
    const sim::TrialResult r = sim::run_trial(brief, graph, 1000 + static_cast<std::uint64_t>(rep));
    if (r.events == ~std::uint64_t{0}) std::puts("");
  }
  const auto start = Clock::now();
  const sim::TrialResult r = sim::run_trial(s, graph, static_cast<std::uint64_t>(rep));
  p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  p.events = static_cast<double>(r.events);
  p.peak_mb = status_kb("VmHWM") / 1024.0;
  return p;
}

// run_point in a forked child, which reports through a pipe; its peak RSS is its own.
bool run_forked(bool source, std::uint64_t n, int rep, const Options& o, Point& out) {
  int fd[2];
  if (pipe(fd) != 0) return false;
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fd[0]);
    const Point p = run_point(source, n, rep, o);
    const ssize_t written = write(fd[1], &p, sizeof p);
    _exit(written == static_cast<ssize_t>(sizeof p) ? 0 : 1);
  }
  close(fd[1]);
  Point p;
  const ssize_t got = read(fd[0], &p, sizeof p);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof p) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  out = p;
  return true;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// ---- the anchors ---------------------------------------------------------------------

struct Anchors {
  double chase_ns = 0;          // ns per dependent random access
  double chase_per_s = 0;       // 1 / latency
  double mlp_per_s = 0;         // independent random accesses per second
  double mib = 0;
};

// splitmix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
// OOPSLA 2014): cheap, and good enough to scatter addresses.
inline std::uint64_t splitmix(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The buffer is one 64-byte line per slot, in the same huge-page-advised memory as the
// simulator's per-user arrays, so both anchors pay DRAM and not page walks, as the
// simulator's loads do.
Anchors measure_anchors(std::size_t mib) {
  struct alignas(64) Line {
    std::uint64_t next;
    std::uint64_t pad[7];
  };
  const std::size_t count = mib * 1024 * 1024 / sizeof(Line);
  sim::LargeVector<Line> lines(count);
  // Sattolo's algorithm (Sattolo 1986; Knuth TAOCP vol. 2, 3.4.2): a uniformly random
  // permutation with a single cycle, so the chase visits every line before it repeats.
  std::vector<std::uint32_t> perm(count);
  std::iota(perm.begin(), perm.end(), 0u);
  std::uint64_t seed = 29;
  for (std::size_t i = count - 1; i > 0; --i) std::swap(perm[i], perm[splitmix(seed) % i]);
  for (std::size_t i = 0; i < count; ++i) lines[i].next = perm[i];
  perm = {};
  Anchors a;
  a.mib = static_cast<double>(mib);
  {
    const std::size_t steps = 20'000'000;
    std::uint64_t at = 0;
    for (std::size_t s = 0; s < 100'000; ++s) at = lines[at].next;  // warm the TLB
    const auto start = Clock::now();
    for (std::size_t s = 0; s < steps; ++s) at = lines[at].next;
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (at == ~std::uint64_t{0}) std::puts("");  // keeps the chase
    a.chase_ns = seconds / static_cast<double>(steps) * 1e9;
    a.chase_per_s = static_cast<double>(steps) / seconds;
  }
  {
    constexpr int lanes = 16;
    const std::size_t rounds = 4'000'000;
    std::uint64_t state[lanes];
    for (int l = 0; l < lanes; ++l) state[l] = 1000 + static_cast<std::uint64_t>(l);
    std::uint64_t sum = 0;
    const auto start = Clock::now();
    for (std::size_t r = 0; r < rounds; ++r)
      for (int l = 0; l < lanes; ++l) {
        // Lemire's multiply-shift maps 32 random bits onto [0, count).
        const std::uint64_t index = ((splitmix(state[l]) >> 32) * count) >> 32;
        sum += lines[index].next;
      }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (sum == 42) std::puts("");
    a.mlp_per_s = static_cast<double>(rounds * lanes) / seconds;
  }
  return a;
}

bool parse(int argc, char** argv, Options& o) {
  if (const char* env = std::getenv("TIMELY_SCALING_MAX_N")) o.max_n = static_cast<std::uint64_t>(std::atof(env));
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    const auto value = [&]() -> const char* { return a + 1 < argc ? argv[++a] : nullptr; };
    const char* v = nullptr;
    if (arg == "--max-n" && (v = value())) o.max_n = static_cast<std::uint64_t>(std::atof(v));
    else if (arg == "--reps" && (v = value())) o.reps = std::max(1, std::atoi(v));
    else if (arg == "--events" && (v = value())) o.events = std::atof(v);
    else if (arg == "--per-user" && (v = value())) o.per_user = std::atof(v);
    else if (arg == "--anchor-mib" && (v = value())) o.anchor_mib = static_cast<std::size_t>(std::atol(v));
    else if (arg == "--csv" && (v = value())) o.csv = v;
    else if (arg == "--tracked" && (v = value())) o.tracked = static_cast<std::uint32_t>(std::atol(v));
    else if (arg == "--cold") o.warm = false;
    else if (arg == "--draw-ahead" && (v = value()) && (std::string(v) == "auto" || std::string(v) == "on" || std::string(v) == "off"))
      o.draw_ahead = v;
    else if (arg == "--models" && (v = value())) {
      const std::string m = v;
      o.source = m.find("source") != std::string::npos;
      o.users = m.find("users") != std::string::npos;
    } else {
      std::fprintf(stderr,
                   "usage: timely_scaling_bench [--max-n N] [--reps R] [--events E] [--per-user P] [--anchor-mib M] "
                   "[--csv PATH] [--models source,users] [--draw-ahead auto|on|off] [--tracked K] [--cold]\n");
      return false;
    }
  }
  if (o.max_n > 4'000'000'000ull) o.max_n = 1'000'000'000ull;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t n = 1000; n <= o.max_n; n *= 10) sizes.push_back(n);
  std::vector<bool> models;
  if (o.source) models.push_back(true);
  if (o.users) models.push_back(false);

  std::printf("anchors over %zu MiB ...\n", o.anchor_mib);
  const Anchors anchors = measure_anchors(o.anchor_mib);
  std::printf("DRAM latency (pointer chase): %.1f ns/access = %.2f M accesses/s\n", anchors.chase_ns,
              anchors.chase_per_s / 1e6);
  std::printf("MLP (16 independent random streams): %.2f M accesses/s = %.2f x the chase\n\n",
              anchors.mlp_per_s / 1e6, anchors.mlp_per_s / anchors.chase_per_s);

  std::map<std::pair<bool, std::uint64_t>, std::vector<Point>> runs;
  for (int rep = 0; rep < o.reps; ++rep)
    for (const bool source : models)
      for (const std::uint64_t n : sizes) {
        Point p;
        if (!run_forked(source, n, rep, o, p)) {
          std::fprintf(stderr, "%s model, n = %llu: the trial failed (out of memory?)\n", source ? "source" : "users",
                       static_cast<unsigned long long>(n));
          continue;
        }
        runs[{source, n}].push_back(p);
        std::printf("rep %d %-6s n = %-10llu %6.2f M events/s  peak RSS %8.1f MB\n", rep + 1, source ? "source" : "users",
                    static_cast<unsigned long long>(n), p.events / p.seconds / 1e6, p.peak_mb);
      }

  struct Row {
    bool source;
    std::uint64_t n;
    double rate, peak_mb, rss_before_mb, events;
  };
  std::vector<Row> rows;
  std::map<std::pair<bool, std::uint64_t>, double> rate_at;
  for (const auto& [key, points] : runs) {
    std::vector<double> rates, peaks, before, events;
    for (const Point& p : points) {
      rates.push_back(p.events / p.seconds);
      peaks.push_back(p.peak_mb);
      before.push_back(p.rss_before_mb);
      events.push_back(p.events);
    }
    rows.push_back({key.first, key.second, median(rates), median(peaks), median(before), median(events)});
    rate_at[key] = rows.back().rate;
  }
  const auto ratio = [&](const Row& r, std::uint64_t base) {
    const auto it = rate_at.find({r.source, base});
    return it == rate_at.end() ? std::nan("") : r.rate / it->second;
  };

  std::printf("\nmedians of %d (complete graph, uniform gossip, one thread; users model K = %u, 0: all)\n", o.reps, o.tracked);
  std::printf("%-7s %11s %12s %13s %13s %12s %14s\n", "model", "n", "events", "M events/s", "/ rate(1e5)",
              "/ rate(1e4)", "peak RSS MB");
  for (const Row& r : rows)
    std::printf("%-7s %11llu %12.3g %13.2f %13.2f %12.2f %14.1f\n", r.source ? "source" : "users",
                static_cast<unsigned long long>(r.n), r.events, r.rate / 1e6, ratio(r, 100000), ratio(r, 10000),
                r.peak_mb);

  std::ofstream csv(o.csv);
  csv << "# timely_scaling_bench: medians of " << o.reps << "; anchors over " << o.anchor_mib << " MiB\n";
  csv << "# dram_latency_ns," << anchors.chase_ns << "\n# chase_accesses_per_s," << anchors.chase_per_s
      << "\n# mlp_accesses_per_s," << anchors.mlp_per_s << "\n";
  csv << "model,n,events,events_per_s,ratio_to_1e5,ratio_to_1e4,peak_rss_mb,rss_before_mb,chase_accesses_per_s,"
         "mlp_accesses_per_s,dram_latency_ns\n";
  for (const Row& r : rows) {
    const auto cell = [](double x) { return std::isnan(x) ? std::string() : std::to_string(x); };
    csv << (r.source ? "source" : "users") << ',' << r.n << ',' << r.events << ',' << r.rate << ','
        << cell(ratio(r, 100000)) << ',' << cell(ratio(r, 10000)) << ',' << r.peak_mb << ',' << r.rss_before_mb << ','
        << anchors.chase_per_s << ',' << anchors.mlp_per_s << ',' << anchors.chase_ns << '\n';
  }
  std::printf("\nwrote %s\n", o.csv.c_str());
  return csv ? 0 : 1;
}
