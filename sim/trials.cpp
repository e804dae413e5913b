#include "sim/trials.hpp"

#include <algorithm>
#include <atomic>
#include <tbb/info.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace timely::sim {

std::vector<TrialResult> run_trials(const Scenario& scenario, const Graph& graph, unsigned threads,
                                    const TrialProgress& progress) {
  std::vector<TrialResult> results(scenario.run.trials);
  std::atomic<std::uint32_t> done{0};
  // More threads than cores cannot run at once (TBB would warn); the cap changes nothing
  // in the results, which never depend on the thread count.
  const int cores = tbb::info::default_concurrency();
  tbb::task_arena arena(threads == 0 ? cores : std::min(static_cast<int>(threads), cores));
  arena.execute([&] {
    // Grain 1: a trial is long, and dynamic balancing matters more than overhead.
    tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, scenario.run.trials, 1),
                      [&](const tbb::blocked_range<std::uint32_t>& range) {
                        for (std::uint32_t trial = range.begin(); trial != range.end(); ++trial) {
                          results[trial] = run_trial(scenario, graph, trial);
                          const std::uint32_t finished = ++done;
                          if (progress) progress(finished);
                        }
                      });
  });
  return results;
}

}  // namespace timely::sim
