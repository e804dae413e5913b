#include "models/partition.hpp"

#include <algorithm>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/uniform_01.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace timely::models {

namespace {

using Indices = std::vector<std::uint32_t>;

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument("make_partition: " + message);
}

Indices all_indices(std::size_t n) {
  Indices indices(n);
  std::iota(indices.begin(), indices.end(), std::uint32_t{0});
  return indices;
}

Partition iid(std::size_t samples, std::uint32_t users, Rng& rng) {
  Indices order = all_indices(samples);
  shuffle(std::span<std::uint32_t>(order), rng);
  Partition p;
  p.shards.resize(users);
  for (std::size_t k = 0; k < samples; ++k) p.shards[k % users].push_back(order[k]);
  return p;
}

// Proportions ~ Dirichlet(alpha, ..., alpha) as normalised Gamma(alpha, 1) draws. With a small
// alpha every draw can underflow to 0; then draw again, a few times. With a tiny alpha (1e-300)
// that never ends, so the draw moves to log space: a Gamma(alpha) variable is
// Gamma(alpha + 1) * U^(1/alpha) (Marsaglia & Tsang 2000, section 6), whose logarithm
// log G + log(U) / alpha stays finite, and the proportions are normalised by the largest.
std::vector<double> dirichlet_proportions(std::uint32_t users, double alpha, Rng& rng) {
  boost::random::gamma_distribution<double> gamma(alpha, 1.0);
  std::vector<double> p(users);
  for (int attempt = 0; attempt < 64; ++attempt) {
    double total = 0.0;
    for (auto& v : p) total += (v = gamma(rng));
    if (total > 0.0 && std::isfinite(total)) {
      for (auto& v : p) v /= total;
      return p;
    }
  }
  boost::random::gamma_distribution<double> shifted(alpha + 1.0, 1.0);
  boost::random::uniform_01<double> uniform;
  double largest = -std::numeric_limits<double>::infinity();
  for (auto& v : p) {
    v = std::log(shifted(rng)) + std::log1p(-uniform(rng)) / alpha;  // 1 - U in (0, 1]: log finite
    largest = std::max(largest, v);
  }
  double total = 0.0;
  for (auto& v : p) total += (v = std::exp(v - largest));  // the largest becomes 1: total >= 1
  for (auto& v : p) v /= total;
  return p;
}

Partition dirichlet(const Dataset& train, std::uint32_t users, double alpha, Rng& rng) {
  std::vector<Indices> by_class(static_cast<std::size_t>(train.classes));
  for (std::size_t s = 0; s < train.size(); ++s)
    by_class[static_cast<std::size_t>(train.labels(static_cast<Eigen::Index>(s)))].push_back(static_cast<std::uint32_t>(s));

  Partition p;
  p.shards.resize(users);
  for (auto& members : by_class) {
    shuffle(std::span<std::uint32_t>(members), rng);
    const std::vector<double> share = dirichlet_proportions(users, alpha, rng);
    // User u gets members[round(n c_{u-1}), round(n c_u)) where c_u is the cumulative share;
    // the last boundary is n exactly, so every sample of the class is dealt.
    const auto n = static_cast<double>(members.size());
    double cumulative = 0.0;
    std::size_t begin = 0;
    for (std::uint32_t u = 0; u < users; ++u) {
      cumulative += share[u];
      const std::size_t end =
          u + 1 == users ? members.size() : std::min(members.size(), static_cast<std::size_t>(std::llround(n * cumulative)));
      if (end > begin) p.shards[u].insert(p.shards[u].end(), members.begin() + static_cast<std::ptrdiff_t>(begin),
                                          members.begin() + static_cast<std::ptrdiff_t>(end));
      begin = std::max(begin, end);
    }
  }

  // No user may be empty: move one sample from the largest shard (size >= 2 while some user
  // is empty, since users <= samples). Ties go to the lowest user index, so this is
  // deterministic.
  for (auto& shard : p.shards) {
    if (!shard.empty()) continue;
    auto largest = std::max_element(p.shards.begin(), p.shards.end(),
                                    [](const Indices& a, const Indices& b) { return a.size() < b.size(); });
    shard.push_back(largest->back());
    largest->pop_back();
  }
  return p;
}

Partition sorted_shards(const Dataset& train, std::uint32_t users, std::uint32_t per_user, Rng& rng) {
  Indices sorted = all_indices(train.size());
  std::stable_sort(sorted.begin(), sorted.end(), [&](std::uint32_t a, std::uint32_t b) {
    return train.labels(static_cast<Eigen::Index>(a)) < train.labels(static_cast<Eigen::Index>(b));
  });
  const std::size_t count = std::size_t{users} * per_user;
  Indices shard_order = all_indices(count);
  shuffle(std::span<std::uint32_t>(shard_order), rng);

  // Shard k is sorted[k N / count, (k + 1) N / count): sizes differ by at most one.
  const std::size_t n = sorted.size();
  Partition p;
  p.shards.resize(users);
  for (std::size_t slot = 0; slot < count; ++slot) {
    const std::size_t k = shard_order[slot];
    auto& shard = p.shards[slot / per_user];
    shard.insert(shard.end(), sorted.begin() + static_cast<std::ptrdiff_t>(k * n / count),
                 sorted.begin() + static_cast<std::ptrdiff_t>((k + 1) * n / count));
  }
  return p;
}

}  // namespace

Partition make_partition(const Dataset& train, std::uint32_t users, PartitionKind kind, double alpha,
                         std::uint32_t shards_per_user, Rng& rng) {
  const std::size_t samples = train.size();
  require(users >= 1, "users must be >= 1");
  require(samples <= std::numeric_limits<std::uint32_t>::max(), "more than 2^32 - 1 samples");
  require(users <= samples, std::to_string(users) + " users but only " + std::to_string(samples) + " samples");
  if (kind != PartitionKind::iid) {
    require(train.classes >= 1 && static_cast<std::size_t>(train.labels.size()) == samples,
            std::string(kind == PartitionKind::dirichlet ? "dirichlet" : "shards") + " partition needs class labels (regression data allows only iid)");
    for (Eigen::Index s = 0; s < train.labels.size(); ++s)
      require(train.labels(s) >= 0 && train.labels(s) < train.classes, "label outside [0, classes)");
  }

  Partition p;
  switch (kind) {
    case PartitionKind::iid: p = iid(samples, users, rng); break;
    case PartitionKind::dirichlet:
      require(std::isfinite(alpha) && alpha > 0.0, "dirichlet alpha must be > 0, got " + std::to_string(alpha));
      p = dirichlet(train, users, alpha, rng);
      break;
    case PartitionKind::shards:
      require(shards_per_user >= 1, "shards_per_user must be >= 1");
      require(std::size_t{users} * shards_per_user <= samples,
              std::to_string(users) + " users x " + std::to_string(shards_per_user) + " shards exceed " +
                  std::to_string(samples) + " samples");
      p = sorted_shards(train, users, shards_per_user, rng);
      break;
  }
  // Ascending indices: a shard is a set, and ascending order reads the data matrix in order.
  for (auto& shard : p.shards) std::sort(shard.begin(), shard.end());
  return p;
}

namespace {

// The samples `members` of `train` as a set of their own for make_partition, which reads only
// the sample count and the labels: no features are copied (x has 0 rows, one column per member).
Dataset labels_of(const Dataset& train, const Indices& members) {
  Dataset subset;
  subset.classes = train.classes;
  subset.x.resize(0, static_cast<Eigen::Index>(members.size()));
  if (train.labels.size() > 0) {
    subset.labels.resize(static_cast<Eigen::Index>(members.size()));
    for (std::size_t i = 0; i < members.size(); ++i)
      subset.labels(static_cast<Eigen::Index>(i)) = train.labels(static_cast<Eigen::Index>(members[i]));
  }
  return subset;
}

}  // namespace

Partition make_specialty_partition(const Dataset& train, std::uint32_t users, std::uint32_t specialties,
                                   PartitionKind kind, double alpha, std::uint32_t shards_per_user, Rng& rng) {
  require(specialties >= 1, "specialties must be >= 1");
  if (specialties == 1) return make_partition(train, users, kind, alpha, shards_per_user, rng);
  require(specialties <= users, std::to_string(specialties) + " specialties but only " + std::to_string(users) +
                                    " users (a kind no user asks)");
  require(train.kinds.size() == train.size(), "specialties need samples with task kinds (data.source = synthetic-arithmetic)");
  std::vector<Indices> by_kind(specialties);
  for (std::size_t s = 0; s < train.kinds.size(); ++s) {
    require(train.kinds[s] < specialties, "a sample's kind is outside [0, specialties)");
    by_kind[train.kinds[s]].push_back(static_cast<std::uint32_t>(s));  // ascending
  }
  Partition p;
  p.shards.resize(users);
  for (std::uint32_t k = 0; k < specialties; ++k) {
    const std::uint32_t members = (users - k + specialties - 1) / specialties;  // users k, k + S, ... below users
    Partition within;
    try {
      within = make_partition(labels_of(train, by_kind[k]), members, kind, alpha, shards_per_user, rng);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("kind " + std::to_string(k) + " of " + std::to_string(specialties) + ": " + e.what());
    }
    // Local indices back to the training set's: by_kind[k] is ascending, so the shards stay ascending.
    for (std::uint32_t j = 0; j < members; ++j) {
      auto& shard = p.shards[k + j * specialties];
      for (const std::uint32_t local : within.shards[j]) shard.push_back(by_kind[k][local]);
    }
  }
  return p;
}

std::vector<std::size_t> class_counts(const std::vector<std::uint32_t>& shard, const Dataset& train) {
  if (train.classes <= 0 || static_cast<std::size_t>(train.labels.size()) != train.size()) return {};
  std::vector<std::size_t> counts(static_cast<std::size_t>(train.classes), 0);
  for (const std::uint32_t s : shard) {
    const int label = train.labels(static_cast<Eigen::Index>(s));
    if (label >= 0 && label < train.classes) ++counts[static_cast<std::size_t>(label)];
  }
  return counts;
}

ShardSummary summarize(const Partition& partition, const Dataset& train) {
  ShardSummary summary;
  if (partition.shards.empty()) return summary;
  summary.min_size = std::numeric_limits<std::size_t>::max();
  double total_size = 0.0, total_classes = 0.0;
  for (const auto& shard : partition.shards) {
    summary.min_size = std::min(summary.min_size, shard.size());
    summary.max_size = std::max(summary.max_size, shard.size());
    total_size += static_cast<double>(shard.size());
    const auto counts = class_counts(shard, train);
    total_classes += static_cast<double>(std::count_if(counts.begin(), counts.end(), [](std::size_t c) { return c > 0; }));
  }
  const auto users = static_cast<double>(partition.shards.size());
  summary.mean_size = total_size / users;
  summary.mean_classes_per_user = total_classes / users;
  return summary;
}

}  // namespace timely::models
