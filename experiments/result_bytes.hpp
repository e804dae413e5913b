#pragma once
// Trial results as bytes, for the messages of an MPI run (MPI builds only): Boost.Serialization's
// binary archive, which copies every double's and integer's bits, so a result computed on
// another rank is the very result rank 0 would have computed. The ranks of one run must share
// the byte order and the sizes of double and the integers (any cluster of x86-64 or of ARM64
// machines does).
#include <string>
#include <vector>

#include "sim/learning.hpp"
#include "sim/trial.hpp"

namespace timely::experiments {

std::string to_bytes(const sim::TrialResult& result);
std::string to_bytes(const sim::LearningTrialResult& result);
std::string to_bytes(const std::vector<sim::TrialResult>& results);
std::string to_bytes(const std::vector<sim::LearningTrialResult>& results);

void from_bytes(const std::string& bytes, sim::TrialResult& result);
void from_bytes(const std::string& bytes, sim::LearningTrialResult& result);
void from_bytes(const std::string& bytes, std::vector<sim::TrialResult>& results);
void from_bytes(const std::string& bytes, std::vector<sim::LearningTrialResult>& results);

}  // namespace timely::experiments
