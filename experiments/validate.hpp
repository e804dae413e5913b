#pragma once
// `timely validate`: the built-in suite that checks the simulator against the theory of
// docs/model.md section 3 (items 3.1-3.7): exact values within confidence intervals,
// scaling laws by their fits, the capacity regimes, worst-observer boundedness and rumour
// spreading. Writes report.md, checks.csv, each stage's sweep directory and the figures.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "plots/figure.hpp"

namespace timely::experiments {

struct ValidateOptions {
  std::filesystem::path out = "out/validate";
  bool quick = false;
  unsigned threads = 0;  // 0 = all cores
  bool show_progress = false;
};

// Returns the number of failed checks (0 when everything passes).
std::size_t run_validate(const ValidateOptions& options, std::ostream& out, std::ostream& err);

// True if `dir` holds a validation (checks.csv).
bool is_validate_dir(const std::filesystem::path& dir);

// Redraws the suite's combined figures (regimes, worst observer, topologies, sample path)
// from the stage directories and sample_path.csv; returns the figure names.
std::vector<std::string> draw_validate_figures(const std::filesystem::path& dir, std::ostream& log,
                                               const plots::Drawing& drawing = {});

}  // namespace timely::experiments
