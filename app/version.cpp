#include "app/version.hpp"

namespace timely::cli {

std::string_view timely_git_revision() { return TIMELY_GIT_REVISION; }

}  // namespace timely::cli
