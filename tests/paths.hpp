#pragma once
// Where the tests find the source tree and the built program. They are defined in the build
// tree's test_paths.cpp (tests/CMakeLists.txt), not passed as compile definitions: then no
// test object depends on where the tree or the build is, and the compiler cache serves the
// test objects of one clone to every other clone.
namespace timely::test_paths {
extern const char* const source_dir;
extern const char* const program;
}  // namespace timely::test_paths

#define TIMELY_SOURCE_DIR ::timely::test_paths::source_dir
#define TIMELY_BINARY ::timely::test_paths::program
