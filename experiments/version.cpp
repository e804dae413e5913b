#include "experiments/version.hpp"

namespace timely::experiments {

std::string_view timely_git_revision() { return TIMELY_GIT_REVISION; }

}  // namespace timely::experiments
