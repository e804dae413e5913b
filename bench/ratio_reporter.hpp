#pragma once
// The benchmarks' own comparison (issue 12): a console reporter that, after the usual
// table, prints the median of each chosen counter over the repetitions of a benchmark and
// the ratios of timely's benchmarks to the reference loops measured in the same run. The
// references live in the same binary, so a ratio compares code run on the same machine in
// the same minutes; run with --benchmark_repetitions=5
// --benchmark_enable_random_interleaving=true (bench/compare_*.sh) for medians that a noisy
// spell of the machine hits on both sides alike.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace timely::bench {

// One figure: the counter `counter` of the benchmark function `benchmark`.
struct Figure {
  std::string label, benchmark, counter, unit;
};

struct Ratio {
  std::string numerator, denominator;  // labels
  double target = 0.0;                 // the goal for the ratio; 0: none
};

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter(std::vector<Figure> figures, std::vector<Ratio> ratios)
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular),  // colours on a terminal only
        figures_(std::move(figures)), ratios_(std::move(ratios)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // Every repetition's value; with --benchmark_display_aggregates_only only the
    // aggregates arrive here, and then Google Benchmark's own median is taken.
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool aggregate = run.run_type == Run::RT_Aggregate;
      if (aggregate && run.aggregate_name != "median") continue;
      for (const Figure& f : figures_) {
        if (run.run_name.function_name != f.benchmark) continue;
        const auto it = run.counters.find(f.counter);
        if (it != run.counters.end()) (aggregate ? aggregate_median_ : values_)[f.label].push_back(it->second.value);
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::map<std::string, double> median;
    bool any = false;
    for (const Figure& f : figures_) {
      auto& v = values_[f.label];
      if (v.empty()) v = aggregate_median_[f.label];
      if (v.empty()) continue;
      if (!any) std::printf("\nMedians over repetitions (%s):\n", "one run, same machine");
      any = true;
      std::sort(v.begin(), v.end());
      const std::size_t k = v.size();
      median[f.label] = k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
      const double spread = median[f.label] != 0.0 ? (v.back() - v.front()) / median[f.label] : 0.0;
      if (aggregate_median_[f.label] == v)
        std::printf("  %-24s %14.6g %-12s (Google Benchmark's median)  [%s]\n", f.label.c_str(), median[f.label],
                    f.unit.c_str(), f.benchmark.c_str());
      else
        std::printf("  %-24s %14.6g %-12s over %zu reps (spread %.0f%%)  [%s]\n", f.label.c_str(), median[f.label],
                    f.unit.c_str(), k, 100.0 * spread, f.benchmark.c_str());
    }
    for (const Ratio& r : ratios_) {
      if (!median.count(r.numerator) || !median.count(r.denominator)) continue;
      const double ratio = median[r.numerator] / median[r.denominator];
      std::printf("  %-42s %.3f", (r.numerator + " / " + r.denominator).c_str(), ratio);
      if (r.target > 0.0) std::printf("   (goal >= %.2f: %s)", r.target, ratio >= r.target ? "met" : "NOT met");
      std::printf("\n");
    }
    std::fflush(stdout);
  }

 private:
  std::vector<Figure> figures_;
  std::vector<Ratio> ratios_;
  std::map<std::string, std::vector<double>> values_, aggregate_median_;
};

// main() of a benchmark binary that reports through a RatioReporter.
inline int run_with_ratios(int argc, char** argv, std::vector<Figure> figures, std::vector<Ratio> ratios) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(std::move(figures), std::move(ratios));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace timely::bench
