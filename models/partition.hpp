#pragma once
// How the training set is dealt out to users (docs/model.md §5): IID, Dirichlet label
// skew, or shards of sorted labels. Depends on nothing of timely's.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "models/dataset.hpp"
#include "models/kinds.hpp"

namespace timely::models {

// PartitionKind (iid, dirichlet, shards) is in models/kinds.hpp; its names are in
// sim/choices.hpp, with every other choice.

struct Partition {
  std::vector<std::vector<std::uint32_t>> shards;  // sample indices of each user, ascending
};

// Every sample goes to exactly one user and every user gets at least one sample.
//
// iid: a uniform random permutation dealt round-robin (sizes differ by at most one).
// dirichlet: per class, the proportions over users are drawn from Dirichlet(alpha) (as
//   normalised Gamma(alpha, 1) draws) and that class's samples, in random order, are cut
//   accordingly (Hsu, Qi & Brown 2019, "Measuring the effects of non-identical data
//   distribution for federated visual classification"). Small alpha: few classes per user;
//   large alpha: close to IID. A user left empty receives one sample moved from the
//   currently largest shard (repeated until none is empty): at most `users` moves, where
//   re-drawing could loop for a long time with tiny alpha and many users.
// shards: samples sorted by label (ties by index) are cut into users * shards_per_user
//   contiguous shards of near-equal size, and each user gets shards_per_user of them at
//   random (McMahan et al. 2017, "Communication-efficient learning of deep networks from
//   decentralized data", pathological non-IID). A shard may straddle two labels, so a user
//   sees at most 2 * shards_per_user labels, usually shards_per_user.
//
// alpha is used only by dirichlet and shards_per_user only by shards. Throws
// std::invalid_argument if users = 0, users > samples, alpha <= 0 (dirichlet),
// shards_per_user = 0 or users * shards_per_user > samples (shards), for a non-iid kind on
// data without labels (regression), or for more than 2^32 - 1 samples.
Partition make_partition(const Dataset& train, std::uint32_t users, PartitionKind kind, double alpha,
                         std::uint32_t shards_per_user, Rng& rng);

// Users with specialties (sapo.specialties, docs/model.md §5): user u holds only samples of
// kind u mod specialties (Dataset::kinds), as a swarm whose members each ask one kind of
// question. For each kind k in turn, the samples of kind k are dealt among its users
// k, k + S, k + 2S, ... by make_partition, as if they were the whole set (so data.partition
// still says how, within a kind), drawing from the one `rng`. specialties = 1 is
// make_partition itself, draw for draw. Throws std::invalid_argument as make_partition does
// for a kind's samples and users (e.g. a kind with fewer samples than users), and for
// specialties = 0, specialties > users (a kind no user asks) or specialties > 1 on data
// without kinds.
Partition make_specialty_partition(const Dataset& train, std::uint32_t users, std::uint32_t specialties,
                                   PartitionKind kind, double alpha, std::uint32_t shards_per_user, Rng& rng);

// Number of samples of each class in one user's shard (size train.classes; empty for
// regression data).
std::vector<std::size_t> class_counts(const std::vector<std::uint32_t>& shard, const Dataset& train);

struct ShardSummary {
  std::size_t min_size = 0, max_size = 0;
  double mean_size = 0.0;
  double mean_classes_per_user = 0.0;  // distinct labels per user; 0 for regression data
};
ShardSummary summarize(const Partition& partition, const Dataset& train);

}  // namespace timely::models
