// Replays every reproducer of tests/fuzz/corpus/ (written by tests/fuzz/fuzz.py and
// tests/fuzz/make_corpus.py; format in tests/fuzz/README.md) against the built program and
// checks the command-line contract: the exit status the case expects; on exit 2 exactly
// one line on stderr; never a signal or a hang; no nan/inf token on stdout or in the CSV and
// JSON files the run wrote, and no null where a number belongs in JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "tests/scratch_dir.hpp"
#include "tests/paths.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path corpus_dir = fs::path(TIMELY_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

// The file's first `limit` bytes.
std::string slurp(const fs::path& p, std::size_t limit = std::size_t{64} << 20) {
  std::ifstream f(p, std::ios::binary);
  std::string text;
  char buffer[1 << 16];
  while (text.size() < limit && f.read(buffer, sizeof buffer).gcount() > 0)
    text.append(buffer, static_cast<std::size_t>(f.gcount()));
  if (text.size() > limit) text.resize(limit);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);  // splits on '\n' only: '\r' stays in the argument
  return lines;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
  return text;
}

// A run still going after this long is killed and counts as a hang.
int timeout_seconds() {
  if (const char* env = std::getenv("TIMELY_FUZZ_TIMEOUT_S")) return std::max(1, std::atoi(env));
  return 30;
}

// Every case is cheap once the program keeps its contract (well under 2 s): one that takes
// longer than this is still grinding through an unbounded input before it gives up.
double slow_seconds() {
  if (const char* env = std::getenv("TIMELY_FUZZ_SLOW_S")) return std::max(1.0, std::atof(env));
  return 10.0;
}

struct Outcome {
  bool timed_out = false;
  bool signaled = false;
  int signal = 0;
  int status = -1;
  std::string out, err;
  double seconds = 0;
};

// fork/exec in `dir` with stdout and stderr in files; the child leads its own process group
// so that a hang is killed together with anything it started (gnuplot).
Outcome run_in(const fs::path& dir, const std::vector<std::string>& args, const fs::path& out_file,
               const fs::path& err_file) {
  std::vector<std::string> words{TIMELY_BINARY};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const std::string dir_text = dir.string(), out_text = out_file.string(), err_text = err_file.string();

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls from here on
    ::setpgid(0, 0);
    const rlimit core{0, 0};
    ::setrlimit(RLIMIT_CORE, &core);
    // A runaway allocation fails (std::bad_alloc) instead of taking the machine's memory.
    // RLIMIT_DATA, not RLIMIT_AS: address space that threads and malloc arenas only reserve
    // does not count.
    // A sanitizer build reserves terabytes of shadow memory at start-up: no cap there.
#ifndef TIMELY_SANITIZE
    const rlimit memory{rlim_t{4} << 30, rlim_t{4} << 30};
    ::setrlimit(RLIMIT_DATA, &memory);
#endif
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(out_text.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = ::open(err_text.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::chdir(dir_text.c_str()) != 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execv(argv[0], argv.data());
    ::_exit(126);
  }
  ::setpgid(pid, pid);  // also here, so that the kill below cannot race the child's own call
  Outcome o;
  int wstatus = 0;
  const auto limit = std::chrono::seconds(timeout_seconds());
  for (;;) {
    const pid_t done = ::waitpid(pid, &wstatus, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) FAIL("waitpid: " << std::strerror(errno));
    if (std::chrono::steady_clock::now() - start > limit) {
      o.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &wstatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!o.timed_out) {
    if (WIFSIGNALED(wstatus)) {
      o.signaled = true;
      o.signal = WTERMSIG(wstatus);
    } else if (WIFEXITED(wstatus)) {
      o.status = WEXITSTATUS(wstatus);
    }
  }
  o.out = slurp(out_file);
  o.err = slurp(err_file);
  return o;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A nan or inf (infinity) that stands alone as a number: "nan", "-nan", "inf", "-Infinity";
// not "informed", "financial" or "x.nan".
std::string nonfinite_token(const std::string& text) {
  std::string lower(text.size(), ' ');
  std::transform(text.begin(), text.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const std::string word : {"nan", "infinity", "inf"}) {
    for (std::size_t at = lower.find(word); at != std::string::npos; at = lower.find(word, at + 1)) {
      std::size_t before = at;
      if (before > 0 && (text[before - 1] == '-' || text[before - 1] == '+')) --before;
      if (before > 0 && (word_char(text[before - 1]) || text[before - 1] == '.')) continue;
      const std::size_t end = at + word.size();
      if (end < text.size() && word_char(text[end])) continue;
      const std::size_t from = before >= 20 ? before - 20 : 0;
      return "'" + text.substr(before, end - before) + "' in ..." + text.substr(from, end + 20 - from) + "...";
    }
  }
  return "";
}

// In JSON: "mean": null, or null as an element of an array (a number that was NaN).
std::string null_number(const std::string& json) {
  for (std::size_t at = json.find("null"); at != std::string::npos; at = json.find("null", at + 1)) {
    std::size_t k = at;
    while (k > 0 && std::isspace(static_cast<unsigned char>(json[k - 1]))) --k;
    if (k == 0) continue;
    const char before = json[k - 1];
    if (before == '[' || before == ',') return "null in an array near ..." + json.substr(k > 40 ? k - 40 : 0, 60);
    if (before == ':') {
      std::size_t q = k - 1;
      while (q > 0 && std::isspace(static_cast<unsigned char>(json[q - 1]))) --q;
      if (q >= 6 && json.compare(q - 6, 6, "\"mean\"") == 0) return "\"mean\": null";
    }
  }
  return "";
}

using Stamp = std::tuple<ino_t, std::int64_t, std::int64_t>;  // inode, mtime (ns), size

std::map<fs::path, Stamp> stamps(const fs::path& dir) {
  std::map<fs::path, Stamp> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      out[it->path()] = {st.st_ino, std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
                         static_cast<std::int64_t>(st.st_size)};
  }
  return out;
}

struct Case {
  std::string name;
  fs::path dir;
  std::vector<std::string> args, setup, absent;
  std::string expect, stderr_has;
};

Case load_case(const fs::path& dir) {
  Case c;
  c.name = dir.filename().string();
  c.dir = dir;
  c.args = lines_of(slurp(dir / "args"));
  const auto expect = lines_of(slurp(dir / "expect"));
  c.expect = expect.empty() ? "" : expect.front();
  if (fs::exists(dir / "setup")) c.setup = lines_of(slurp(dir / "setup"));
  if (fs::exists(dir / "absent")) c.absent = lines_of(slurp(dir / "absent"));
  if (fs::exists(dir / "stderr_has")) {
    const auto has = lines_of(slurp(dir / "stderr_has"));
    if (!has.empty()) c.stderr_has = has.front();
  }
  return c;
}

std::vector<Case> corpus() {
  std::vector<Case> cases;
  if (!fs::is_directory(corpus_dir)) return cases;
  for (const auto& entry : fs::directory_iterator(corpus_dir))
    if (entry.is_directory() && fs::exists(entry.path() / "args")) cases.push_back(load_case(entry.path()));
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

bool expected(const std::string& expect, int status) {
  std::istringstream in(expect);
  for (std::string token; std::getline(in, token, '|');)
    if (token == std::to_string(status)) return true;
  return false;
}

void apply_setup(const fs::path& dir, const std::string& line) {
  std::istringstream in(line);
  std::string verb, a, b;
  in >> verb >> a >> b;
  if (verb == "mkfifo") {
    fs::create_directories((dir / a).parent_path());
    REQUIRE(::mkfifo((dir / a).c_str(), 0644) == 0);
  } else if (verb == "mkdir") {
    fs::create_directories(dir / a);
  } else if (verb == "symlink") {  // symlink TARGET PATH
    fs::create_directories((dir / b).parent_path());
    fs::create_symlink(a, dir / b);
  } else {
    FAIL("setup: unknown line '" << line << "'");
  }
}

struct RemoveOnExit {
  std::vector<fs::path> paths;
  ~RemoveOnExit() {
    std::error_code ec;
    for (const auto& p : paths) fs::remove_all(p, ec);
  }
};

void check_case(const Case& c, const fs::path& root) {
  const fs::path dir = root / c.name;
  const RemoveOnExit cleanup{{dir, root / (c.name + ".stdout"), root / (c.name + ".stderr")}};
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::copy(c.dir, dir, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  for (const auto& line : c.setup) apply_setup(dir, line);
  const auto before = stamps(dir);

  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(replace_all(replace_all(a, "@DIR@", dir.string()), "@NL@", "\n"));
  const Outcome o = run_in(dir, args, root / (c.name + ".stdout"), root / (c.name + ".stderr"));

  std::string shown;
  for (const auto& a : c.args) shown += " " + a;
  INFO("case " << c.name << ": timely" << shown);
  INFO("exit " << o.status << " after " << o.seconds << " s; stderr: " << o.err.substr(0, 600));
  if (o.timed_out) FAIL_CHECK("hang: killed after " << timeout_seconds() << " s");
  if (o.signaled) FAIL_CHECK("killed by signal " << o.signal << " (" << ::strsignal(o.signal) << ")");
  if (o.timed_out || o.signaled) return;
  if (o.seconds > slow_seconds())
    FAIL_CHECK("slow: " << o.seconds << " s (every case should take well under 2 s; limit " << slow_seconds() << " s)");
  CHECK(o.status != 125);  // the harness itself could not start the program
  CHECK(o.status != 126);
  CHECK(expected(c.expect, o.status));
  if (o.status == 2) {
    const auto breaks = std::count(o.err.begin(), o.err.end(), '\n') + std::count(o.err.begin(), o.err.end(), '\r');
    INFO("exit 2 needs exactly one line on stderr, ending in a newline, with no carriage return");
    CHECK(breaks == 1);
    CHECK((!o.err.empty() && o.err.back() == '\n'));
  }
  CHECK(nonfinite_token(o.out) == "");
  const bool json = std::find(c.args.begin(), c.args.end(), "--json") != c.args.end();
  if (json) CHECK(null_number(o.out) == "");
  for (const auto& [path, stamp] : stamps(dir)) {
    const auto ext = path.extension();
    if (ext != ".csv" && ext != ".json") continue;
    const auto old = before.find(path);
    if (old != before.end() && old->second == stamp) continue;  // an input the run left alone
    const std::string text = slurp(path);
    INFO("written by the run: " << fs::relative(path, dir).string());
    CHECK(nonfinite_token(text) == "");
    if (ext == ".json") CHECK(null_number(text) == "");
  }
  for (const auto& a : c.absent) {
    INFO("the run must not create " << a << " (command injection)");
    CHECK_FALSE(fs::exists(fs::symlink_status(dir / a)));
  }
  if (!c.stderr_has.empty()) {
    INFO("stderr must name the value as given: " << c.stderr_has);
    CHECK(o.err.find(c.stderr_has) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("Fuzz corpus: every reproducer keeps the command-line contract", "[fuzz]") {
  const fs::path root = timely::testing::scratch_root("timely_fuzz_corpus_test");
  for (const Case& c : corpus()) {
#ifdef TIMELY_SANITIZE
    // The large-n cases are about the 4 GiB data limit, which a sanitizer build runs without
    // (its shadow memory): there they would be accepted and simulated at sanitizer speed.
    if (c.name.starts_with("large-")) continue;
#endif
    DYNAMIC_SECTION(c.name) { check_case(c, root); }
  }
}

TEST_CASE("Fuzz corpus: at least 15 well-formed cases", "[fuzz]") {
  const auto cases = corpus();
  CHECK(cases.size() >= 15);
  for (const Case& c : cases) {
    INFO("case " << c.name);
    CHECK(!c.args.empty());
    CHECK((c.expect == "0" || c.expect == "2" || c.expect == "0|2" || c.expect == "2|0"));
  }
}
