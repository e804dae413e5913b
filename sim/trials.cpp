#include "sim/trials.hpp"

#include <algorithm>
#include <atomic>
#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace timely::sim {

int trial_threads(unsigned threads) {
  // More threads than cores cannot run at once (TBB would warn).
  const int cores = tbb::info::default_concurrency();
  return threads == 0 ? cores : std::min(static_cast<int>(threads), cores);
}

void for_each_trial(std::uint32_t trials, unsigned threads, const TrialProgress& progress,
                    const std::function<void(std::uint32_t trial)>& run_one) {
  std::atomic<std::uint32_t> done{0};
  tbb::task_arena arena(trial_threads(threads));
  arena.execute([&] {
    // Grain 1: a trial is long, and dynamic balancing matters more than overhead.
    tbb::parallel_for(tbb::blocked_range<std::uint32_t>(0, trials, 1), [&](const tbb::blocked_range<std::uint32_t>& range) {
      for (std::uint32_t trial = range.begin(); trial != range.end(); ++trial) {
        run_one(trial);
        const std::uint32_t finished = ++done;
        if (progress) progress(finished);
      }
    });
  });
}

std::vector<TrialResult> run_trials(const Scenario& scenario, const Graph& graph, unsigned threads,
                                    const TrialProgress& progress) {
  std::vector<TrialResult> results(scenario.run.trials);
  for_each_trial(scenario.run.trials, threads, progress,
                 [&](std::uint32_t trial) { results[trial] = run_trial(scenario, graph, trial); });
  return results;
}

std::vector<LearningTrialResult> run_learning_trials(const Scenario& scenario, const Graph& graph,
                                                     const LearningData& data, unsigned threads,
                                                     const TrialProgress& progress) {
  std::vector<LearningTrialResult> results(scenario.run.trials);
  for_each_trial(scenario.run.trials, threads, progress,
                 [&](std::uint32_t trial) { results[trial] = run_learning_trial(scenario, graph, data, trial); });
  return results;
}

}  // namespace timely::sim
