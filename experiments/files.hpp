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
// the same directory is refused with InputError naming the directory. `who` begins the
// message: the option or command that named the directory ("--out", "plot"). A directory
// the process cannot write (read-only) is refused the same way, naming it, before any work.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::filesystem::path& dir, std::string_view who = "--out");
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// Whether something is at `path` (links followed): false when nothing is, or a link points
// nowhere. A path that cannot be looked at (a symlink loop, a directory that cannot be
// searched) is InputError naming it and why: std::filesystem::exists threw a
// filesystem_error for those, which ended plot and --resume with exit 1.
bool path_exists(const std::filesystem::path& path);

// Removes the file `path` if it is there; std::runtime_error naming it if it cannot.
void remove_if_present(const std::filesystem::path& path);

// Creates `dir` (and its parents); InputError naming the directory if it cannot.
void create_output_directory(const std::filesystem::path& dir);

}  // namespace timely::experiments
