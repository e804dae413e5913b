#pragma once
// How results reach the disk: whole files replaced atomically, rows appended whole, and one
// run at a time per output directory.
#include <filesystem>
#include <string_view>

namespace timely::experiments {

// Writes `contents` to a temporary file beside `path`, flushes it to the disk and renames it
// over `path`, so a reader never sees a partial file. On failure (a full disk) the temporary
// is removed and std::runtime_error names the path and the reason.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// Appends `contents` to `path` (created if missing) in one write; if the write fails part
// way (a full disk), the file is cut back to its previous length, so it holds whole rows
// only, and std::runtime_error names the path and the reason.
void append_whole(const std::filesystem::path& path, std::string_view contents);

// An exclusive lock on an output directory for the lifetime of the object (flock on
// DIR/.timely.lock, released by the kernel even if the process is killed). A second run into
// the same directory is refused with InputError naming the directory.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Creates `dir` (and its parents); InputError naming the directory if it cannot.
void create_output_directory(const std::filesystem::path& dir);

}  // namespace timely::experiments
