#pragma once
#include <string_view>

namespace timely::experiments {

// The git revision the build was configured from ("unknown" outside a git checkout).
std::string_view timely_git_revision();

}  // namespace timely::experiments
