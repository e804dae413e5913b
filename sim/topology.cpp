#include "sim/topology.hpp"

#include <bit>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <boost/random/uniform_int_distribution.hpp>

#include "sim/alias_table.hpp"
#include "sim/input_error.hpp"

namespace timely::sim {

namespace {

constexpr int max_samples = 100;  // resampling cap for graphs that must come out connected

[[noreturn]] void fail(const std::string& message) { throw InputError(message); }

std::string show(double x, int digits = 6) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;
}

// The first user that breadth-first search from user 0 does not reach, if any.
std::optional<std::uint32_t> first_unreachable(const CsrGraph& g) {
  const std::uint32_t n = g.size();
  if (n == 0) return std::nullopt;
  std::vector<char> seen(n, 0);
  std::vector<std::uint32_t> queue;
  queue.reserve(n);
  queue.push_back(0);
  seen[0] = 1;
  for (std::size_t head = 0; head < queue.size(); ++head) {
    for (const std::uint32_t j : g.neighbours(queue[head])) {
      if (!seen[j]) {
        seen[j] = 1;
        queue.push_back(j);
      }
    }
  }
  if (queue.size() == n) return std::nullopt;
  return static_cast<std::uint32_t>(std::find(seen.begin(), seen.end(), 0) - seen.begin());
}

// ---------------------------------------------------------------- random regular graphs
//
// Pairing (configuration) model: n*d stubs, d per user, matched uniformly at random
// (Bollobas 1980; McKay & Wormald 1990). It yields a multigraph; conditioned on being
// simple it is a uniform d-regular graph, but that happens with probability about
// exp(-(d^2 - 1)/4) (0.0000000014 for d = 8), so rejecting whole pairings is hopeless.
// Instead each self-loop or extra copy of an edge is repaired by a random double-edge
// swap {u,v},{x,y} -> {u,x},{v,y} (the degree-preserving switch of Milo et al. 2002/2003,
// "Network motifs" / "On the uniform generation of random graphs with prescribed degree
// sequences"), accepted only when both new edges are new and not loops. Each accepted
// swap removes a defect and creates none, so the repair terminates. Only O(d^2) of the
// n*d/2 edges are touched, so the result is approximately, not exactly, uniform (exact
// uniformity would need McKay-Wormald's switchings with rejection steps).
//
// Neighbour slots are flat: user u owns adj[u*d .. u*d + d), which is exactly the CSR
// row. Membership tests use a pair-count matrix for small n and otherwise scan d slots,
// which beats a hash set for the sparse degrees used at large n.
std::optional<std::vector<std::uint32_t>> regular_slots(std::uint32_t n, std::uint32_t d,
                                                        Rng& rng) {
  const std::uint64_t stubs = static_cast<std::uint64_t>(n) * d;
  std::vector<std::uint32_t> s(stubs);
  for (std::uint64_t k = 0; k < stubs; ++k) s[k] = static_cast<std::uint32_t>(k / d);
  for (std::uint64_t k = stubs - 1; k > 0; --k) {  // Fisher-Yates
    boost::random::uniform_int_distribution<std::uint64_t> pick(0, k);
    std::swap(s[k], s[pick(rng)]);
  }
  const std::uint64_t m = stubs / 2;  // edge e is {s[2e], s[2e+1]}

  std::vector<std::uint32_t> adj(stubs);
  std::vector<std::uint32_t> fill(n, 0);
  const auto slots = [&](std::uint32_t u) { return adj.data() + static_cast<std::uint64_t>(u) * d; };
  for (std::uint64_t e = 0; e < m; ++e) {
    const std::uint32_t u = s[2 * e];
    const std::uint32_t v = s[2 * e + 1];
    slots(u)[fill[u]++] = v;
    slots(v)[fill[v]++] = u;
  }
  // For small n a pair-count matrix makes membership O(1) (dense graphs have ~d^2/4
  // defects, and scanning d slots for each would cost O(n d^3)); otherwise scan the slots.
  const bool matrix = n <= 4096;  // at most 32 MiB of counts, each <= d < n < 2^16
  std::vector<std::uint16_t> count(matrix ? static_cast<std::size_t>(n) * n : 0);
  const auto cell = [&](std::uint32_t a, std::uint32_t b) -> std::uint16_t& {
    return count[static_cast<std::size_t>(a) * n + b];
  };
  if (matrix)
    for (std::uint32_t u = 0; u < n; ++u)
      for (std::uint32_t k = 0; k < d; ++k) ++cell(u, slots(u)[k]);
  const auto mult = [&](std::uint32_t a, std::uint32_t b) {
    if (matrix) return static_cast<int>(cell(a, b));
    return static_cast<int>(std::count(slots(a), slots(a) + d, b));
  };
  const auto replace = [&](std::uint32_t a, std::uint32_t from, std::uint32_t to) {
    *std::find(slots(a), slots(a) + d, from) = to;
    if (matrix) {
      --cell(a, from);
      ++cell(a, to);
    }
  };
  const auto same = [](std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t e) {
    return static_cast<int>((a == c && b == e) || (a == e && b == c));
  };

  // The defects, in edge order. Scanning d slots for every edge cost O(n d^2) (minutes at
  // n = 4e6, d = 64: issue 28); only users with a repeated neighbour or a loop can have a
  // multi-edge, so one sorted copy of each row (O(n d log d), in row order) flags them, and
  // only their edges are counted.
  std::vector<std::uint8_t> suspect;
  if (!matrix) {
    suspect.assign(n, 0);
    std::vector<std::uint32_t> row(d);
    for (std::uint32_t u = 0; u < n; ++u) {
      std::copy(slots(u), slots(u) + d, row.begin());
      std::sort(row.begin(), row.end());
      suspect[u] = std::adjacent_find(row.begin(), row.end()) != row.end() ? 1 : 0;
    }
  }
  std::vector<std::uint64_t> defects;
  for (std::uint64_t e = 0; e < m; ++e) {
    const std::uint32_t u = s[2 * e], v = s[2 * e + 1];
    if (u == v || ((matrix || suspect[u]) && mult(u, v) > 1)) defects.push_back(e);
  }
  suspect = {};

  boost::random::uniform_int_distribution<std::uint64_t> pick_edge(0, m - 1);
  boost::random::uniform_int_distribution<std::uint32_t> coin(0, 1);
  const std::uint64_t max_attempts = 1000 + 100 * m;  // a stall (tiny graphs) restarts
  std::uint64_t attempts = 0;
  for (const std::uint64_t e : defects) {
    for (;;) {
      const std::uint32_t u = s[2 * e];
      const std::uint32_t v = s[2 * e + 1];
      if (u != v && mult(u, v) == 1) break;  // repaired, or the other copy was
      if (++attempts > max_attempts) return std::nullopt;
      const std::uint64_t l = pick_edge(rng);
      if (l == e) continue;
      std::uint32_t x = s[2 * l];
      std::uint32_t y = s[2 * l + 1];
      if (coin(rng) != 0) std::swap(x, y);
      // New edges {u,x} and {v,y}: no loops, distinct, and absent once the two old edges
      // are gone (hence the corrections for coinciding with an old edge).
      if (u == x || v == y || same(u, x, v, y)) continue;
      if (mult(u, x) - same(u, x, u, v) - same(u, x, x, y) != 0) continue;
      if (mult(v, y) - same(v, y, u, v) - same(v, y, x, y) != 0) continue;
      // Order matters only when u == v or x == y: each call rewrites one remaining slot.
      replace(u, v, x);
      replace(v, u, y);
      replace(x, y, u);
      replace(y, x, v);
      s[2 * e + 1] = x;
      s[2 * l] = v;
      s[2 * l + 1] = y;
    }
  }
  return adj;
}

CsrGraph random_regular(std::uint32_t n, std::uint32_t d, Rng& rng) {
  // Dense case: a uniform d-regular graph is the complement of a uniform
  // (n-1-d)-regular one, which is sparse and easy to repair.
  const bool dense = 2 * static_cast<std::uint64_t>(d) > n - 1;
  const std::uint32_t inner = dense ? n - 1 - d : d;
  for (int sample = 0; sample < max_samples; ++sample) {
    std::optional<std::vector<std::uint32_t>> slots;
    if (inner == 0) {
      slots.emplace();
    } else {
      slots = regular_slots(n, inner, rng);
      if (!slots) continue;
    }
    CsrGraph g;
    g.kind = TopologyKind::random_regular;
    g.offsets.resize(static_cast<std::size_t>(n) + 1);
    for (std::uint32_t i = 0; i <= n; ++i) g.offsets[i] = static_cast<std::uint64_t>(i) * d;
    if (!dense) {
      g.targets = std::move(*slots);
    } else {
      g.targets.reserve(static_cast<std::size_t>(n) * d);
      std::vector<char> mark(n, 0);
      for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint32_t* row = slots->data() + static_cast<std::uint64_t>(i) * inner;
        for (std::uint32_t k = 0; k < inner; ++k) mark[row[k]] = 1;
        mark[i] = 1;
        for (std::uint32_t j = 0; j < n; ++j)
          if (!mark[j]) g.targets.push_back(j);
        for (std::uint32_t k = 0; k < inner; ++k) mark[row[k]] = 0;
        mark[i] = 0;
      }
    }
    if (is_connected(g)) return g;
  }
  fail("network.degree: no connected random " + std::to_string(d) + "-regular graph on n = " +
       std::to_string(n) + " users in " + std::to_string(max_samples) + " samples");
}

// ---------------------------------------------------------------- Erdos-Renyi G(n, p)
//
// Geometric skipping (V. Batagelj & U. Brandes, "Efficient generation of large random
// networks", Phys. Rev. E 71, 036113, 2005, algorithm G(n,p)): the gap to the next present
// pair among the n(n-1)/2 in order (1,0), (2,0), (2,1), (3,0), ... is geometric, so one
// uniform per edge gives O(n + m) time instead of O(n^2).
std::vector<Edge> gnp_edges(std::uint32_t n, double p, Rng& rng) {
  std::vector<Edge> edges;
  const double pairs = static_cast<double>(n) * (static_cast<double>(n) - 1.0) / 2.0;
  edges.reserve(static_cast<std::size_t>(std::min(pairs, p * pairs * 1.05 + 16.0)));
  if (p >= 1.0) {
    for (std::uint32_t v = 1; v < n; ++v)
      for (std::uint32_t w = 0; w < v; ++w) edges.push_back({v, w});
    return edges;
  }
  const double log_q = std::log1p(-p);
  boost::random::uniform_01<double> uniform;
  std::int64_t v = 1;
  std::int64_t w = -1;
  while (v < n) {
    const double skip = std::floor(std::log1p(-uniform(rng)) / log_q);
    if (skip > pairs) break;  // past the last pair
    w += 1 + static_cast<std::int64_t>(skip);
    while (w >= v && v < n) {
      w -= v;
      ++v;
    }
    if (v < n) edges.push_back({static_cast<std::uint32_t>(v), static_cast<std::uint32_t>(w)});
  }
  return edges;
}

CsrGraph erdos_renyi(std::uint32_t n, double p_given, Rng& rng) {
  if (!std::isfinite(p_given) || p_given < 0.0 || p_given > 1.0)
    fail("network.p: expected a probability in (0, 1], got " + show(p_given));
  // Default 2 ln n / n: twice the connectivity threshold ln(n)/n (Erdos & Renyi 1959).
  const double p = p_given == 0.0
                       ? std::min(1.0, 2.0 * std::log(static_cast<double>(n)) / n)
                       : p_given;
  for (int sample = 0; sample < max_samples; ++sample) {
    const std::vector<Edge> edges = gnp_edges(n, p, rng);
    CsrGraph g = make_csr(n, edges, {}, TopologyKind::erdos_renyi);
    if (is_connected(g)) return g;
  }
  fail("network.p: G(n = " + std::to_string(n) + ", p = " + show(p) + ") was not connected in " +
       std::to_string(max_samples) + " samples; connectivity needs p above ln(n)/n = " +
       show(std::log(static_cast<double>(n)) / n, 3));
}

// ---------------------------------------------------------------- edge list file

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t k = 0;
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (k < line.size()) {
    while (k < line.size() && space(line[k])) ++k;
    const std::size_t start = k;
    while (k < line.size() && !space(line[k])) ++k;
    if (k > start) fields.push_back(line.substr(start, k - start));
  }
  return fields;
}

template <class T>
bool parse_whole(std::string_view field, T& out) {
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, out);
  return ec == std::errc() && ptr == end;
}

// Input bytes as shown in an error: printable ASCII as it is, every other byte as \xNN, at
// most `limit` bytes of input (then "..."), so that the message stays one short line
// whatever the file holds.
std::string shown_bytes(std::string_view text, std::size_t limit = 60) {
  std::string out;
  for (std::size_t k = 0; k < text.size() && k < limit; ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

// A path as shown in an error: control characters escaped (\n, \t, \xNN), the rest as it is.
std::string shown_path(std::string_view path) {
  std::string out;
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) out += shown_bytes(std::string_view(&c, 1));
    else out += c;
  }
  return out;
}

// "[1e-12, 1e12]"
std::string weight_range() {
  std::string range(1, '[');
  range.append(show(min_edge_weight)).append(", ").append(show(max_edge_weight)).append("]");
  range.erase(std::remove(range.begin(), range.end(), '+'), range.end());
  return range;
}

std::string_view trimmed(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::string_view file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a file descriptor on every path out of read_edges.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// One line of an edge list (without its '\n'): appends its edge and weight, or throws.
struct EdgeListParser {
  std::uint32_t n;
  const std::string& path;
  std::vector<Edge> edges;
  std::vector<double> weights;
  bool weighted = false;
  std::unordered_map<std::uint64_t, std::uint64_t> first_line;  // edge -> line number

  [[noreturn]] void fail_at(std::uint64_t line_no, const std::string& what) const {
    fail("network.edges_file: " + shown_path(path) + ":" + std::to_string(line_no) + ": " + what);
  }

  void line(std::uint64_t line_no, std::string_view line) {
    std::string_view content = line.substr(0, line.find('#'));  // comments: whole lines or trailing
    // Edge lines are ASCII text; a comment may hold anything but a NUL.
    for (std::size_t k = 0; k < line.size(); ++k) {
      const auto c = static_cast<unsigned char>(line[k]);
      const bool text = (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\r' || c == '\v' || c == '\f';
      if (c == 0 || (k < content.size() && !text))
        fail_at(line_no, "byte " + shown_bytes(line.substr(k, 1)) + " at column " + std::to_string(k + 1) +
                             " is not text (expected lines 'i j [weight]'; is this a binary file?), got '" +
                             shown_bytes(line, 16) + "'");
    }
    const std::vector<std::string_view> f = split_fields(content);
    if (f.empty()) return;
    std::uint32_t u = 0;
    std::uint32_t v = 0;
    if (f.size() < 2 || f.size() > 3 || !parse_whole(f[0], u) || !parse_whole(f[1], v) || u >= n || v >= n)
      fail_at(line_no, "expected two user ids in [0, " + std::to_string(n) + ") and an optional weight in " +
                           weight_range() + ", got '" + shown_bytes(trimmed(content)) + "'");
    double w = 1.0;  // a line without a weight has weight 1
    if (f.size() == 3) {
      // Weights are relative gossip rates: the range keeps every user's total, and the
      // exact theory's rates, far from overflow and underflow.
      if (!parse_whole(f[2], w) || !std::isfinite(w) || w < min_edge_weight || w > max_edge_weight)
        fail_at(line_no, "expected a weight in " + weight_range() +
                             " (weights are relative gossip rates), got '" +
                             shown_bytes(f[2]) + "'");
      weighted = true;
    }
    if (u == v)
      fail_at(line_no, "self-loop " + std::to_string(u) + " " + std::to_string(v) + " (a user cannot gossip with itself)");
    const std::uint64_t key = (static_cast<std::uint64_t>(std::min(u, v)) << 32) | std::max(u, v);
    const auto [it, inserted] = first_line.emplace(key, line_no);
    if (!inserted)
      fail_at(line_no, "duplicate edge " + std::to_string(u) + " " + std::to_string(v) + " (first on line " +
                           std::to_string(it->second) + ")");
    edges.push_back({u, v});
    weights.push_back(w);
  }
};

// Reads an edge list (format and limits in topology.hpp). Only a regular file is opened:
// a FIFO would block the open, a device (/dev/zero) or a growing file would never end, so
// the type is checked before opening and again on the open descriptor (opened
// non-blocking, so a file swapped for a FIFO in between cannot hang it either), and both
// the file's size and each line's length are bounded.
CsrGraph read_edges(std::uint32_t n, const std::string& path) {
  if (path.empty())
    fail("network.edges_file: expected the path of an edge list (topology = edges), got ''");
  std::string quoted(1, '\'');  // (not "'" + ...: GCC 12 warns falsely, -Wrestrict)
  quoted.append(shown_path(path)).push_back('\'');
  const auto check_type = [&](const struct stat& st) {
    if (!S_ISREG(st.st_mode))
      fail("network.edges_file: " + quoted + " is " + std::string(file_type(st.st_mode)) +
           "; expected a regular file of lines 'i j [weight]'");
    if (static_cast<std::uint64_t>(st.st_size) > max_edges_file_bytes)
      fail("network.edges_file: " + quoted + " has " + std::to_string(st.st_size) +
           " bytes; an edge list may have at most " + std::to_string(max_edges_file_bytes) + " (1 GiB)");
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("network.edges_file: cannot open " + quoted);
  check_type(st);
  Descriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (file.fd < 0) fail("network.edges_file: cannot open " + quoted);
  if (::fstat(file.fd, &st) != 0) fail("network.edges_file: cannot read " + quoted);
  check_type(st);

  EdgeListParser parser{n, path, {}, {}, false, {}};
  std::string line;
  std::uint64_t line_no = 1, total = 0;
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const ssize_t got = ::read(file.fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("network.edges_file: error reading " + quoted + ": " + std::strerror(errno));
    }
    if (got == 0) break;
    total += static_cast<std::uint64_t>(got);
    if (total > max_edges_file_bytes)  // the file grew after the size check
      fail("network.edges_file: " + quoted + " has more than " + std::to_string(max_edges_file_bytes) +
           " bytes (1 GiB), the most an edge list may have");
    std::string_view chunk(buffer.data(), static_cast<std::size_t>(got));
    for (;;) {
      const std::size_t end = chunk.find('\n');
      const std::string_view part = chunk.substr(0, end);
      if (line.size() + part.size() > max_edges_line_bytes)
        parser.fail_at(line_no, "line longer than " + std::to_string(max_edges_line_bytes) +
                                    " bytes (expected lines 'i j [weight]'; is this a text file?), starts '" +
                                    shown_bytes(line.empty() ? part : std::string_view(line)) + "'");
      line.append(part);
      if (end == std::string_view::npos) break;
      parser.line(line_no++, line);
      line.clear();
      chunk.remove_prefix(end + 1);
    }
  }
  if (!line.empty()) parser.line(line_no, line);

  CsrGraph g = make_csr(n, parser.edges,
                        parser.weighted ? std::span<const double>(parser.weights) : std::span<const double>{},
                        TopologyKind::edges);
  if (const auto lost = first_unreachable(g))
    fail("network.edges_file: the graph is not connected (user " + std::to_string(*lost) +
         " cannot reach user 0)");
  return g;
}

std::uint32_t torus_side(std::uint32_t n) {
  auto side = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(n)));
  while (side * side > n) --side;
  while ((side + 1) * (side + 1) <= n) ++side;
  return side * side == n ? static_cast<std::uint32_t>(side) : 0;
}

// side with side^d = n exactly, or 0.
std::uint32_t integer_root(std::uint32_t n, std::uint32_t d) {
  auto side = static_cast<std::uint64_t>(std::llround(std::pow(static_cast<double>(n), 1.0 / d)));
  for (std::uint64_t s = side > 1 ? side - 1 : 1; s <= side + 1; ++s) {
    std::uint64_t power = 1;
    for (std::uint32_t k = 0; k < d && power <= n; ++k) power *= s;
    if (power == n) return static_cast<std::uint32_t>(s);
  }
  return 0;
}

// The torus in d >= 3 dimensions: user i has coordinates (i mod side, i / side mod side, ...),
// and a neighbour one step either way along each axis, wrapping (side >= 3: 2 d distinct).
CsrGraph torus_graph(std::uint32_t n, std::uint32_t d) {
  const std::uint32_t side = integer_root(n, d);
  if (side < 3)
    fail("network.n: the torus in network.dimensions = " + std::to_string(d) +
         " needs n = side^" + std::to_string(d) + " with side >= 3, got " + std::to_string(n));
  std::vector<Edge> edges;
  edges.reserve(static_cast<std::size_t>(n) * d);
  std::uint64_t stride = 1;
  for (std::uint32_t k = 0; k < d; ++k, stride *= side)
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t coordinate = (i / stride) % side;
      const std::uint64_t j = coordinate + 1 == side ? i - coordinate * stride : i + stride;  // one step up, wrapping
      edges.push_back({i, static_cast<std::uint32_t>(j)});
    }
  return make_csr(n, edges, {}, TopologyKind::torus);
}

// side x side grid without wrap-around: right and down neighbours.
CsrGraph grid_graph(std::uint32_t n) {
  const std::uint32_t side = torus_side(n);
  if (side < 2) fail("network.n: the grid needs a perfect square n = side^2 with side >= 2, got " + std::to_string(n));
  std::vector<Edge> edges;
  edges.reserve(2 * static_cast<std::size_t>(n));
  for (std::uint32_t i = 0; i < n; ++i) {
    if ((i % side) + 1 < side) edges.push_back({i, i + 1});
    if (i + side < n) edges.push_back({i, i + side});
  }
  return make_csr(n, edges, {}, TopologyKind::grid);
}

// Users are the k-bit words, neighbours when they differ in one bit.
CsrGraph hypercube_graph(std::uint32_t n) {
  if (!std::has_single_bit(n))
    fail("network.n: the hypercube needs n a power of 2, got " + std::to_string(n));
  std::vector<Edge> edges;
  const auto bits = static_cast<std::uint32_t>(std::countr_zero(n));
  edges.reserve(static_cast<std::size_t>(n) * bits / 2);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t b = 0; b < bits; ++b)
      if (const std::uint32_t j = i ^ (1u << b); i < j) edges.push_back({i, j});
  return make_csr(n, edges, {}, TopologyKind::hypercube);
}

// The circulant graph C_n(1, ..., f) (Srivastava & Ulukus, arXiv 2308.12266): i ~ i +- s mod n.
CirculantGraph generalized_ring_graph(const NetworkSpec& spec) {
  const std::uint32_t n = spec.n;
  const std::uint64_t f = spec.reach_users();
  const std::string key = spec.reach_exponent ? "network.reach_exponent" : "network.reach";
  if (f < 1 || 2 * f >= n)
    fail(key + ": the generalized ring needs 1 <= f and 2 f < n (f neighbours on each side, distinct), got f = " +
         std::to_string(f) + " with n = " + std::to_string(n));
  return CirculantGraph{n, static_cast<std::uint32_t>(f)};
}


// K_{L, n-L}: users 0 .. L-1 on the left, each a neighbour of every user on the right.
CsrGraph bipartite_graph(const NetworkSpec& spec) {
  const std::uint32_t n = spec.n, left = spec.left.value_or(n / 2);
  if (left < 1 || left >= n)
    fail("network.left: the bipartite graph K_{L, n-L} needs 1 <= L < n = " + std::to_string(n) + ", got " +
         std::to_string(left));
  std::vector<Edge> edges;
  edges.reserve(static_cast<std::size_t>(left) * (n - left));
  for (std::uint32_t i = 0; i < left; ++i)
    for (std::uint32_t j = left; j < n; ++j) edges.push_back({i, j});
  return make_csr(n, edges, {}, TopologyKind::bipartite);
}

// The first user of part i when [a, a + s) is split into k contiguous parts whose sizes
// differ by at most 1, the first s mod k one user larger.
std::uint32_t part_start(std::uint32_t a, std::uint32_t s, std::uint32_t k, std::uint32_t i) {
  return a + i * (s / k) + std::min(i, s % k);
}

// The clustered graph's edges and weights (docs/model.md §1): every cluster is a star from its
// head to its members, weight 1 / members, plus the inside graph among the members (a cycle,
// weight 1/2, or every pair, weight 1 / (members - 1)). Levels nest: a cluster of depth d > 1
// splits its range into sub-ranges, each a cluster of depth d - 1, whose heads form this
// level's cluster with the first of them as its head.
struct ClusterBuilder {
  ClusterInside inside;
  std::vector<Edge> edges;
  std::vector<double> weights;

  void add(std::uint32_t u, std::uint32_t v, double w) {
    edges.push_back({u, v});
    weights.push_back(w);
  }
  // The head, its members (ascending), and the inside graph among them.
  void layer(std::uint32_t head, std::span<const std::uint32_t> members) {
    const auto k = static_cast<std::uint32_t>(members.size());
    for (const std::uint32_t m : members) add(head, m, 1.0 / k);
    if (inside == ClusterInside::ring) {
      if (k == 2) add(members[0], members[1], 0.5);
      if (k >= 3)
        for (std::uint32_t i = 0; i < k; ++i) add(members[i], members[(i + 1) % k], 0.5);
    } else if (inside == ClusterInside::complete) {
      for (std::uint32_t i = 0; i < k; ++i)
        for (std::uint32_t j = i + 1; j < k; ++j) add(members[i], members[j], 1.0 / (k - 1));
    }
  }
  // The cluster of depth d on users [a, b), b - a >= 2^d.
  void cluster(std::uint32_t a, std::uint32_t b, std::uint32_t d) {
    const std::uint32_t s = b - a;
    std::vector<std::uint32_t> members;
    if (d == 1) {
      for (std::uint32_t u = a + 1; u < b; ++u) members.push_back(u);
      layer(a, members);
      return;
    }
    // k' sub-ranges, each of at least 2^(d-1) users.
    auto k = static_cast<std::uint32_t>(
        std::max<long long>(2, std::llround(std::pow(static_cast<double>(s), 1.0 / d))));
    k = std::min(k, s >> (d - 1));
    for (std::uint32_t i = 0; i < k; ++i) {
      const std::uint32_t begin = part_start(a, s, k, i), end = part_start(a, s, k, i + 1);
      cluster(begin, end, d - 1);
      if (i > 0) members.push_back(begin);
    }
    layer(a, members);
  }
};

CsrGraph clustered_graph(const NetworkSpec& spec) {
  const std::uint32_t n = spec.n, levels = spec.levels;
  if (levels < 1 || levels >= 32 || (n >> levels) == 0)
    fail("network.levels: expected 2^levels <= network.n = " + std::to_string(n) +
         " (every cluster of depth L needs at least 2^L users), got " + std::to_string(levels));
  const std::uint64_t m = spec.cluster_count(), most = n >> levels;
  if (m > most) {
    const std::string bound = "at most floor(n / 2^levels) = " + std::to_string(most) + " clusters (n = " +
                              std::to_string(n) + ", levels = " + std::to_string(levels) + ")";
    if (spec.clusters) fail("network.clusters: expected " + bound + ", got " + std::to_string(m));
    if (spec.clusters_exponent)
      fail("network.clusters_exponent: m = round(n^c) = " + std::to_string(m) + ", expected " + bound);
    fail("network.clusters: the default m = round(sqrt n) = " + std::to_string(m) + " exceeds " + bound +
         "; set network.clusters or lower network.levels");
  }
  ClusterBuilder builder{spec.inside, {}, {}};
  const auto k = static_cast<std::uint32_t>(m);
  for (std::uint32_t i = 0; i < k; ++i) builder.cluster(part_start(0, n, k, i), part_start(0, n, k, i + 1), levels);
  if (spec.head_ring && k >= 2) {
    const std::vector<std::uint32_t> heads = clustered_heads(spec);
    if (k == 2) builder.add(heads[0], heads[1], 0.5);
    else
      for (std::uint32_t i = 0; i < k; ++i) builder.add(heads[i], heads[(i + 1) % k], 0.5);
  }
  return make_csr(n, builder.edges, builder.weights, TopologyKind::clustered);
}

}  // namespace

CsrGraph make_csr(std::uint32_t n, std::span<const Edge> edges, std::span<const double> weights,
                  TopologyKind kind) {
  if (!weights.empty() && weights.size() != edges.size())
    throw std::invalid_argument("make_csr: one weight per edge expected");
  CsrGraph g;
  g.kind = kind;
  g.offsets.assign(static_cast<std::size_t>(n) + 1, 0);
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const Edge e = edges[k];
    if (e.u >= n || e.v >= n) throw std::invalid_argument("make_csr: user id out of range");
    if (e.u == e.v) throw std::invalid_argument("make_csr: self-loop");
    if (!weights.empty() && !(std::isfinite(weights[k]) && weights[k] > 0.0))
      throw std::invalid_argument("make_csr: weights must be positive and finite");
    ++g.offsets[e.u + 1];
    ++g.offsets[e.v + 1];
  }
  for (std::uint32_t i = 0; i < n; ++i) g.offsets[i + 1] += g.offsets[i];
  g.targets.resize(g.offsets[n]);
  if (!weights.empty()) g.weights.resize(g.offsets[n]);
  std::vector<std::uint64_t> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (std::size_t k = 0; k < edges.size(); ++k) {
    const Edge e = edges[k];
    if (!weights.empty()) {
      g.weights[fill[e.u]] = weights[k];
      g.weights[fill[e.v]] = weights[k];
    }
    g.targets[fill[e.u]++] = e.v;
    g.targets[fill[e.v]++] = e.u;
  }
  if (!weights.empty()) {
    g.alias_prob.resize(g.targets.size());
    g.alias_index.resize(g.targets.size());
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t begin = g.offsets[i];
      const std::uint32_t deg = g.degree(i);
      if (deg == 0) continue;
      build_alias(std::span<const double>(g.weights).subspan(begin, deg),
                  std::span<double>(g.alias_prob).subspan(begin, deg),
                  std::span<std::uint32_t>(g.alias_index).subspan(begin, deg));
    }
  }
  return g;
}

Graph build_graph(const NetworkSpec& spec, Rng& rng) {
  const std::uint32_t n = spec.n;
  if (n < 2) fail("network.n: expected an integer >= 2, got " + std::to_string(n));
  switch (spec.topology) {
    case TopologyKind::complete:
      return CompleteGraph{n};
    case TopologyKind::ring:
      if (n < 3) fail("network.n: the ring needs n >= 3, got " + std::to_string(n));
      return RingGraph{n};
    case TopologyKind::torus: {
      if (spec.dimensions != 2) return torus_graph(n, spec.dimensions);
      const std::uint32_t side = torus_side(n);
      if (side < 3)
        fail("network.n: the torus needs a perfect square n = side^2 with side >= 3, got " +
             std::to_string(n));
      return TorusGraph{side};
    }
    case TopologyKind::random_regular: {
      const std::uint32_t d = spec.degree;
      if (d < 3)
        fail("network.degree: a random regular graph needs degree >= 3 (degree 1 or 2 is almost "
             "never connected; use topology = ring for a cycle), got " + std::to_string(d));
      if (d >= n || (static_cast<std::uint64_t>(n) * d) % 2 != 0)
        fail("network.degree: a random " + std::to_string(d) +
             "-regular graph needs n*degree even and degree < n, got n = " + std::to_string(n));
      return random_regular(n, d, rng);
    }
    case TopologyKind::erdos_renyi:
      return erdos_renyi(n, spec.p, rng);
    case TopologyKind::star: {
      std::vector<Edge> edges;
      edges.reserve(n - 1);
      for (std::uint32_t i = 1; i < n; ++i) edges.push_back({0, i});  // user 0 is the centre
      return make_csr(n, edges, {}, TopologyKind::star);
    }
    case TopologyKind::edges:
      return read_edges(n, spec.edges_file);
    case TopologyKind::grid:
      return grid_graph(n);
    case TopologyKind::hypercube:
      return hypercube_graph(n);
    case TopologyKind::generalized_ring:
      return generalized_ring_graph(spec);
    case TopologyKind::bipartite:
      return bipartite_graph(spec);
    case TopologyKind::clustered:
      return clustered_graph(spec);
  }
  throw std::logic_error("build_graph: unknown topology");
}

std::uint64_t NetworkSpec::reach_users() const {
  if (reach) return *reach;
  if (reach_exponent) return static_cast<std::uint64_t>(std::llround(std::pow(static_cast<double>(n), *reach_exponent)));
  return 2;
}

std::uint64_t NetworkSpec::cluster_count() const {
  if (clusters) return *clusters;
  const double c = clusters_exponent.value_or(0.5);
  return static_cast<std::uint64_t>(std::max<long long>(1, std::llround(std::pow(static_cast<double>(n), c))));
}

bool NetworkSpec::clusters_apart() const {
  return topology == TopologyKind::clustered && cluster_count() > 1 && !head_ring;
}

double graph_built_edges(const NetworkSpec& spec) {
  const double n = spec.n;
  switch (spec.topology) {
    case TopologyKind::erdos_renyi: {
      const double p = spec.p == 0.0 ? std::min(1.0, 2.0 * std::log(n) / n) : spec.p;
      return p * n * (n - 1.0) / 2.0;
    }
    case TopologyKind::random_regular: return n * spec.degree / 2.0;
    case TopologyKind::star: return n - 1.0;
    case TopologyKind::torus: return spec.dimensions == 2 ? 0.0 : n * spec.dimensions;
    case TopologyKind::grid: return 2.0 * n;
    case TopologyKind::hypercube: return n * std::log2(n) / 2.0;
    case TopologyKind::bipartite: {
      const double l = spec.left.value_or(spec.n / 2);
      return l * (n - l);
    }
    case TopologyKind::clustered: {
      // Each level adds a star per cluster (under n edges) and, inside, a cycle (under n) or
      // every pair among a cluster's k members: under n k / 2 with k at most n / clusters.
      const double k = n / static_cast<double>(spec.cluster_count());
      const double inside = spec.inside == ClusterInside::complete ? n * k / 2.0
                            : spec.inside == ClusterInside::ring   ? n
                                                                   : 0.0;
      return spec.levels * (n + inside) + static_cast<double>(spec.cluster_count());
    }
    case TopologyKind::edges: {
      // Every edge takes a line of at least four bytes ("0 1\n"); an unreadable file is
      // refused when it is read.
      struct stat st{};
      return ::stat(spec.edges_file.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / 4.0 : 0.0;
    }
    default: return 0.0;
  }
}

double graph_build_bytes(const NetworkSpec& spec) {
  const double n = spec.n;
  const double m = graph_built_edges(spec);
  if (m == 0.0) return 0.0;
  if (spec.topology == TopologyKind::random_regular)
    return 8.0 * n * spec.degree + 9.0 * n;  // the stub slots and the CSR (4 bytes a stub each), fill and flags
  // make_csr: the edge list (8 bytes an edge, up to twice that while an unreserved vector
  // grows), the CSR (both directions, 4 bytes each), its offsets and fill pointers; weighted
  // graphs (clustered) add 8 bytes a weight in the list, and weights and alias tables (20
  // bytes a direction) in the CSR.
  const bool weighted = spec.topology == TopologyKind::clustered;
  return m * (16.0 + 8.0 + (weighted ? 16.0 + 40.0 : 0.0)) + 16.0 * n;
}

double graph_build_work(const NetworkSpec& spec) {
  const double n = spec.n;
  const double m = graph_built_edges(spec);
  if (m == 0.0) return 0.0;
  // Random-regular: a shuffle of the n d stubs and their slots (random accesses), then a
  // sorted copy of each row; the others: each edge drawn or read, then placed twice in the
  // CSR. Each graph is searched once for connectivity (n + 2 m).
  const double build = spec.topology == TopologyKind::random_regular ? 2.0 * n * spec.degree * (2.0 + std::log2(spec.degree))
                                                                     : 3.0 * m;
  double samples = 1.0;
  if (spec.topology == TopologyKind::erdos_renyi) {
    // G(n, p) is drawn again until connected, with probability about exp(-n e^{-p n})
    // (Erdos & Renyi 1960): below the threshold every one of the max_samples draws is made.
    const double isolated = n * std::exp(-2.0 * m / n);
    samples = isolated > std::log(static_cast<double>(max_samples)) ? max_samples : std::exp(isolated);
  }
  return samples * (build + n + 2.0 * m);
}

std::vector<std::uint32_t> clustered_heads(const NetworkSpec& spec) {
  const auto m = static_cast<std::uint32_t>(std::min<std::uint64_t>(spec.cluster_count(), spec.n));
  std::vector<std::uint32_t> heads(m);
  for (std::uint32_t i = 0; i < m; ++i) heads[i] = part_start(0, spec.n, m, i);
  return heads;
}

double NetworkSpec::degree_bound() const {
  switch (topology) {
    case TopologyKind::ring: return 2.0;
    case TopologyKind::torus: return 2.0 * dimensions;
    case TopologyKind::grid: return 4.0;
    case TopologyKind::hypercube: return std::log2(static_cast<double>(n));
    case TopologyKind::generalized_ring: return std::min(2.0 * static_cast<double>(reach_users()), n - 1.0);
    case TopologyKind::bipartite: {
      const double l = left.value_or(n / 2);
      return std::max(l, n - l);
    }
    case TopologyKind::random_regular: return degree;
    default: return n - 1.0;  // complete, star, Erdos-Renyi and edge lists: at most n - 1
  }
}

std::uint32_t graph_size(const Graph& graph) {
  return std::visit([](const auto& g) { return g.size(); }, graph);
}

bool is_connected(const CsrGraph& graph) {
  return graph.size() > 0 && !first_unreachable(graph).has_value();
}

bool is_vertex_transitive(const Graph& graph) {
  return !std::holds_alternative<CsrGraph>(graph);
}

std::vector<std::uint32_t> neighbours(const Graph& graph, std::uint32_t i) {
  std::vector<std::uint32_t> out;
  std::visit(
      [&](const auto& g) {
        using G = std::decay_t<decltype(g)>;
        if (i >= g.size()) throw std::out_of_range("neighbours: user id out of range");
        if constexpr (std::is_same_v<G, CompleteGraph>) {
          out.reserve(g.n - 1);
          for (std::uint32_t j = 0; j < g.n; ++j)
            if (j != i) out.push_back(j);
        } else if constexpr (std::is_same_v<G, RingGraph>) {
          out = {i == 0 ? g.n - 1 : i - 1, i + 1 == g.n ? 0 : i + 1};
        } else if constexpr (std::is_same_v<G, CirculantGraph>) {
          out.reserve(2 * g.f);
          for (std::uint32_t k = 0; k < 2 * g.f; ++k) out.push_back(g.neighbour(i, k));  // pick()'s order
        } else if constexpr (std::is_same_v<G, TorusGraph>) {
          const std::uint32_t s = g.side;
          const std::uint32_t row = i / s;
          const std::uint32_t col = i % s;
          out = {row * s + (col + 1) % s, row * s + (col + s - 1) % s, ((row + 1) % s) * s + col,
                 ((row + s - 1) % s) * s + col};  // east, west, south, north as in pick()
        } else {
          const auto row = g.neighbours(i);
          out.assign(row.begin(), row.end());
        }
      },
      graph);
  return out;
}

Eigen::MatrixXd partner_probabilities(const Graph& graph) {
  const std::uint32_t n = graph_size(graph);
  if (n > 4096)
    throw std::invalid_argument("partner_probabilities: n = " + std::to_string(n) +
                                " is too large for a dense matrix (at most 4096)");
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(n, n);
  if (const auto* csr = std::get_if<CsrGraph>(&graph)) {
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t begin = csr->offsets[i];
      const std::uint32_t deg = csr->degree(i);
      double total = 0.0;
      for (std::uint32_t k = 0; k < deg; ++k) total += csr->weighted() ? csr->weights[begin + k] : 1.0;
      for (std::uint32_t k = 0; k < deg; ++k)
        p(i, csr->targets[begin + k]) += (csr->weighted() ? csr->weights[begin + k] : 1.0) / total;
    }
    return p;
  }
  // Lattices: uniform over the (distinct) neighbours.
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::vector<std::uint32_t> nb = neighbours(graph, i);
    for (const std::uint32_t j : nb) p(i, j) += 1.0 / static_cast<double>(nb.size());
  }
  return p;
}

std::string describe(const Graph& graph) {
  return std::visit(
      [](const auto& g) -> std::string {
        using G = std::decay_t<decltype(g)>;
        const std::string n = "n=" + std::to_string(g.size());
        if constexpr (std::is_same_v<G, CompleteGraph>) {
          return "complete " + n;
        } else if constexpr (std::is_same_v<G, RingGraph>) {
          return "ring " + n;
        } else if constexpr (std::is_same_v<G, CirculantGraph>) {
          return "generalized-ring " + n + " f=" + std::to_string(g.f);
        } else if constexpr (std::is_same_v<G, TorusGraph>) {
          return "torus " + n + " (" + std::to_string(g.side) + "x" + std::to_string(g.side) + ")";
        } else {
          return "csr " + n + " edges=" + std::to_string(g.edge_count()) + " (" +
                 std::string(to_string(g.kind)) + (g.weighted() ? ", weighted)" : ")");
        }
      },
      graph);
}

}  // namespace timely::sim
