// The edge-list reader (topology = edges) refuses what is not a small regular text file of
// sane weights, with one line naming the file and the line, and never blocks or reads
// without bound.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>

#include "tests/scratch_dir.hpp"
#include "sim/input_error.hpp"
#include "sim/topology.hpp"

using namespace timely::sim;

namespace {

std::filesystem::path scratch() {
  const auto dir = timely::testing::scratch_root("timely_edges_file_test");
  std::filesystem::create_directories(dir);
  return dir;
}

std::filesystem::path write(const std::string& name, const std::string& text) {
  const auto path = scratch() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

NetworkSpec edges_spec(const std::string& path, std::uint32_t n = 4) {
  NetworkSpec spec;
  spec.n = n;
  spec.topology = TopologyKind::edges;
  spec.edges_file = path;
  return spec;
}

// The InputError message of reading `path` as the edge list of 4 users ("" if none).
std::string error_of(const std::string& path, std::uint32_t n = 4) {
  auto rng = make_rng(1, Stream::graph, 0);
  try {
    build_graph(edges_spec(path, n), rng);
  } catch (const timely::InputError& e) {
    return e.what();
  }
  return "";
}

bool one_line(const std::string& message) {
  for (const char c : message)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// "network.edges_file: PATH:LINE: " for a file written by write().
std::string at(const std::filesystem::path& path, int line) {
  return "network.edges_file: " + path.string() + ":" + std::to_string(line) + ": ";
}

}  // namespace

TEST_CASE("edges file: weights must be finite and in [1e-12, 1e12]", "[topology]") {
  const std::string chain = "0 1\n1 2\n";
  for (const std::string weight : {"1e308", "1e13", "1e-13", "0", "-1", "-0", "nan", "inf", "-inf", "1e400", "0x1p3"}) {
    INFO("weight " << weight);
    const auto path = write("weight.txt", chain + "2 3 " + weight + "\n");
    const std::string e = error_of(path.string());
    CHECK(e == at(path, 3) + "expected a weight in [1e-12, 1e12] (weights are relative gossip rates), got '" +
                   weight + "'");
  }
  // The ends of the range are accepted, and partner choice follows the weights.
  const auto path = write("extreme.txt", "0 1 1e12\n0 2 1e-12\n2 3\n");
  CHECK(error_of(path.string()).empty());
  auto rng = make_rng(1, Stream::graph, 0);
  const Graph g = build_graph(edges_spec(path.string()), rng);
  const Eigen::MatrixXd p = partner_probabilities(g);
  CHECK(p(0, 1) == Approx(1.0).epsilon(1e-15));
  CHECK(p(0, 2) == Approx(1e-24).epsilon(1e-9));
}

TEST_CASE("edges file: a valid weighted file with comments and CRLF still works", "[topology]") {
  const auto path = write("valid.txt", "# weighted path\r\n0 1 2.5\r\n1 2 0.5  # trailing\r\n\r\n2 3\r\n");
  auto rng = make_rng(1, Stream::graph, 0);
  const Graph g = build_graph(edges_spec(path.string()), rng);
  const auto& csr = std::get<CsrGraph>(g);
  CHECK(csr.weighted());
  CHECK(csr.targets.size() == 6);
  const Eigen::MatrixXd p = partner_probabilities(g);
  CHECK(p(1, 0) == Approx(2.5 / 3.0));
  CHECK(p(1, 2) == Approx(0.5 / 3.0));
  CHECK(p(3, 2) == 1.0);
  // No final newline.
  CHECK(error_of(write("no_newline.txt", "0 1\n1 2\n2 3").string()).empty());
}

TEST_CASE("edges file: a FIFO, /dev/zero and a directory are refused before reading", "[topology]") {
  const auto fifo = scratch() / "edges.fifo";
  std::filesystem::remove(fifo);
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a FIFO for reading blocks until a writer comes: the reader must not open it.
  CHECK(error_of(fifo.string()) == "network.edges_file: '" + fifo.string() +
                                       "' is a FIFO (named pipe); expected a regular file of lines 'i j [weight]'");
  std::filesystem::remove(fifo);

  if (std::filesystem::exists("/dev/zero"))
    CHECK(error_of("/dev/zero") ==
          "network.edges_file: '/dev/zero' is a character device; expected a regular file of lines 'i j [weight]'");
  const auto dir = scratch() / "a_directory";
  std::filesystem::create_directories(dir);
  CHECK(error_of(dir.string()) ==
        "network.edges_file: '" + dir.string() + "' is a directory; expected a regular file of lines 'i j [weight]'");
  CHECK(error_of((scratch() / "missing.txt").string()) ==
        "network.edges_file: cannot open '" + (scratch() / "missing.txt").string() + "'");
}

TEST_CASE("edges file: binary bytes and long lines give one line naming the line", "[topology]") {
  std::string binary = "0 1\n";
  for (int c = 0; c < 256; ++c)
    if (c != '\n') binary += static_cast<char>(255 - c);  // starts with \xff, holds \r, \0, '#', ...
  binary += "\n";
  const auto path = write("binary.txt", binary);
  const std::string e = error_of(path.string());
  INFO(e);
  CHECK(one_line(e));
  CHECK(e.rfind(at(path, 2) + "byte \\xff at column 1 is not text", 0) == 0);
  CHECK(e.size() < 400);

  // A NUL in a comment is binary too; other bytes in a comment are fine.
  CHECK(contains(error_of(write("nul_comment.txt", std::string("0 1 # a\0b\n", 10)).string()), ":1: byte \\x00 at column 8"));
  CHECK(error_of(write("utf8_comment.txt", "0 1 # caf\xc3\xa9\n1 2\n2 3\n").string()).empty());

  // A control character in an edge line is escaped, never echoed raw.
  const std::string escaped = error_of(write("escape.txt", "0 1\n1\x1b[2J 2\n").string());
  CHECK(one_line(escaped));
  CHECK(contains(escaped, ":2: byte \\x1b at column 2"));

  // Lines are bounded: a long line (a file of no newlines) fails at max_edges_line_bytes.
  const auto long_line = write("long.txt", "0 1\n" + std::string(max_edges_line_bytes + 1, '7'));
  const std::string too_long = error_of(long_line.string());
  CHECK(too_long.rfind(at(long_line, 2) + "line longer than 4096 bytes", 0) == 0);
  CHECK(too_long.size() < 400);
  const auto longest = write("longest.txt", "0 1" + std::string(max_edges_line_bytes - 3, ' ') + "\n1 2\n2 3\n");
  CHECK(error_of(longest.string()).empty());
}

TEST_CASE("edges file: bad lines name the file and the line", "[topology]") {
  const auto path = write("bad_id.txt", "0 1\n# c\n1 x\n");
  CHECK(error_of(path.string()) ==
        at(path, 3) + "expected two user ids in [0, 4) and an optional weight in [1e-12, 1e12], got '1 x'");
  const auto loop = write("loop.txt", "0 1\n2 2\n");
  CHECK(error_of(loop.string()) == at(loop, 2) + "self-loop 2 2 (a user cannot gossip with itself)");
  // A path with a newline stays one line too.
  const auto odd = write("odd\nname.txt", "0 1\n1 1\n");
  const std::string e = error_of(odd.string());
  CHECK(one_line(e));
  CHECK(contains(e, "odd\\nname.txt:2: self-loop"));
}

TEST_CASE("edges file: a file over the size limit is refused without reading it", "[topology]") {
  const auto path = scratch() / "huge.txt";
  {
    std::ofstream(path) << "0 1\n";
  }
  // Sparse: the size is over the limit, the disk holds a few bytes.
  std::filesystem::resize_file(path, max_edges_file_bytes + 1);
  CHECK(error_of(path.string()) == "network.edges_file: '" + path.string() + "' has " +
                                       std::to_string(max_edges_file_bytes + 1) +
                                       " bytes; an edge list may have at most 1073741824 (1 GiB)");
  std::filesystem::remove(path);
}
