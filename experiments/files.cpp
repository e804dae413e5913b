#include "experiments/files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/input_error.hpp"

namespace timely::experiments {
namespace {

std::string reason() { return std::strerror(errno); }

// Writes all of `contents` to `fd`; false (errno set) on failure.
bool write_all(int fd, std::string_view contents) {
  while (!contents.empty()) {
    const ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    contents.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  const std::string temporary = path.string() + fmt::format(".tmp{}", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot write ({})", temporary, reason()));
  // fsync before the rename: after a crash the new name never points at unwritten data.
  const bool written = write_all(fd, contents) && ::fsync(fd) == 0;
  const std::string why = written ? "" : reason();
  ::close(fd);
  if (!written) {
    ::unlink(temporary.c_str());
    throw std::runtime_error(fmt::format("{}: cannot write ({})", path.string(), why));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why_rename = reason();
    ::unlink(temporary.c_str());
    throw std::runtime_error(fmt::format("{}: cannot replace ({})", path.string(), why_rename));
  }
}

void append_whole(const std::filesystem::path& path, std::string_view contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("{}: cannot append ({})", path.string(), reason()));
  struct stat before {};
  if (::fstat(fd, &before) != 0 || !write_all(fd, contents)) {
    const std::string why = reason();
    if (::ftruncate(fd, before.st_size) != 0) { /* the reader drops a torn last line */ }
    ::close(fd);
    throw std::runtime_error(fmt::format("{}: cannot append ({})", path.string(), why));
  }
  ::close(fd);
}

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, std::string_view who) : path_(dir / ".timely.lock") {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw InputError(fmt::format("{}: cannot lock {} ({}; timely writes into the directory, so it must be writable)",
                                 who, dir.string(), reason()));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    fd_ = -1;
    throw InputError(fmt::format("{}: {} is in use by another timely run; wait for it or choose another directory",
                                 who, dir.string()));
  }
  // The lock file may be writable where the directory is not (made read-only after a run):
  // the files are replaced by rename, which needs the directory itself.
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    const std::string why = reason();
    ::close(fd_);
    fd_ = -1;
    throw InputError(fmt::format("{}: cannot write into {} ({}; timely writes into the directory, so it must be "
                                 "writable)",
                                 who, dir.string(), why));
  }
}

DirectoryLock::~DirectoryLock() {
  // The file stays: removing it would let a run that opened it just before, and one that
  // creates it anew, both hold "the" lock.
  if (fd_ >= 0) ::close(fd_);
}

bool path_exists(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw InputError(fmt::format("{}: cannot be read ({})", path.string(), reason()));
}

void remove_if_present(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(fmt::format("{}: cannot remove ({})", path.string(), reason()));
}

void create_output_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir, ec))
    throw InputError(fmt::format("--out: cannot create directory '{}' ({})", dir.string(),
                                 ec ? ec.message() : "a file of that name exists"));
}

}  // namespace timely::experiments
