// SAPO's synthetic arithmetic set and the specialties partition (models/dataset.hpp,
// models/partition.hpp; docs/model.md §5).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "models/dataset.hpp"
#include "models/partition.hpp"

using namespace timely::models;

namespace {

// The question of sample s decoded from its one-hot column, which must hold exactly one 1.
struct Question {
  std::uint64_t k, a, b;
};
Question decode(const Dataset& d, Eigen::Index s, std::uint64_t modulus) {
  Eigen::Index hot = -1;
  int ones = 0, others = 0;
  for (Eigen::Index i = 0; i < d.x.rows(); ++i) {
    if (d.x(i, s) == 1.0f) ++ones, hot = i;
    else if (d.x(i, s) != 0.0f) ++others;
  }
  REQUIRE(ones == 1);
  REQUIRE(others == 0);
  const auto index = static_cast<std::uint64_t>(hot);
  return {index / (modulus * modulus), index / modulus % modulus, index % modulus};
}

// (a + (k + 1) b) mod m by repeated addition: not the generator's arithmetic.
int naive_answer(const Question& q, std::uint64_t modulus) {
  std::uint64_t sum = q.a;
  for (std::uint64_t j = 0; j <= q.k; ++j) sum += q.b;
  while (sum >= modulus) sum -= modulus;
  return static_cast<int>(sum);
}

}  // namespace

TEST_CASE("synthetic arithmetic: one 1 per sample, at the question's index, labelled by the rule", "[dataset][arithmetic]") {
  const int kinds = 3, modulus = 7;
  Rng rng(31);
  const Split split = synthetic_arithmetic(kinds, modulus, 2000, 500, rng);
  REQUIRE(split.train.size() == 2000);
  REQUIRE(split.test.size() == 500);
  for (const Dataset* d : {&split.train, &split.test}) {
    REQUIRE(d->features() == kinds * modulus * modulus);
    REQUIRE(d->classes == modulus);
    REQUIRE(d->labels.size() == static_cast<Eigen::Index>(d->size()));
    REQUIRE(d->kinds.size() == d->size());
    CHECK(d->targets.size() == 0);
    CHECK_FALSE(d->optimum);
    for (Eigen::Index s = 0; s < d->x.cols(); ++s) {
      const Question q = decode(*d, s, modulus);
      REQUIRE(q.k < static_cast<std::uint64_t>(kinds));
      CHECK(q.k == d->kinds[static_cast<std::size_t>(s)]);
      CHECK(d->labels(s) == naive_answer(q, modulus));
    }
  }
}

TEST_CASE("synthetic arithmetic: kinds, operands and answers are uniform within 5 binomial sigmas",
          "[dataset][arithmetic]") {
  const int kinds = 4, modulus = 5;
  const std::size_t n = 20000;
  Rng rng(32);
  const Dataset d = synthetic_arithmetic(kinds, modulus, n, 0, rng).train;
  std::vector<double> by_kind(kinds, 0.0), by_a(modulus, 0.0), by_b(modulus, 0.0), by_label(modulus, 0.0);
  for (Eigen::Index s = 0; s < d.x.cols(); ++s) {
    const Question q = decode(d, s, modulus);
    ++by_kind[q.k], ++by_a[q.a], ++by_b[q.b], ++by_label[static_cast<std::size_t>(d.labels(s))];
  }
  const auto within = [&](const std::vector<double>& counts) {
    const double p = 1.0 / static_cast<double>(counts.size()), mean = static_cast<double>(n) * p;
    const double sigma = std::sqrt(static_cast<double>(n) * p * (1.0 - p));
    for (const double c : counts) {
      INFO(c << " against " << mean << " +- 5 x " << sigma);
      CHECK(std::abs(c - mean) <= 5.0 * sigma);
    }
  };
  within(by_kind);
  within(by_a);
  within(by_b);
  within(by_label);  // for a fixed (k, b), a -> answer is a bijection: answers are uniform too
}

TEST_CASE("synthetic arithmetic: a seed fixes the set", "[dataset][arithmetic]") {
  Rng a(5), b(5), c(6);
  const Split first = synthetic_arithmetic(2, 4, 300, 50, a);
  const Split again = synthetic_arithmetic(2, 4, 300, 50, b);
  const Split other = synthetic_arithmetic(2, 4, 300, 50, c);
  CHECK(first.train.x == again.train.x);
  CHECK(first.train.labels == again.train.labels);
  CHECK(first.train.kinds == again.train.kinds);
  CHECK(first.test.x == again.test.x);
  CHECK(first.test.labels == again.test.labels);
  CHECK(first.test.kinds == again.test.kinds);
  CHECK(first.train.x != other.train.x);
}

TEST_CASE("synthetic arithmetic rejects bad arguments", "[dataset][arithmetic]") {
  Rng rng(1);
  CHECK_THROWS_AS(synthetic_arithmetic(0, 5, 10, 0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_arithmetic(1, 1, 10, 0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_arithmetic(1, 5, 0, 0, rng), std::invalid_argument);
  CHECK_THROWS_AS(synthetic_arithmetic(2, 708, 1, 0, rng), std::invalid_argument);  // 1002528 features
  CHECK(synthetic_arithmetic(1, 1000, 1, 0, rng).train.features() == 1'000'000);    // the largest allowed
}

// --- the specialties partition --------------------------------------------------------------

TEST_CASE("specialties: user u holds only kind u mod S, and each kind's samples are dealt once among its users",
          "[dataset][arithmetic]") {
  const std::uint32_t kinds = 3, users = 10;
  Rng data_rng(41);
  const Dataset train = synthetic_arithmetic(static_cast<int>(kinds), 5, 3000, 0, data_rng).train;
  for (const PartitionKind kind : {PartitionKind::iid, PartitionKind::dirichlet, PartitionKind::shards}) {
    Rng rng(42);
    const Partition p = make_specialty_partition(train, users, kinds, kind, 0.5, 2, rng);
    REQUIRE(p.shards.size() == users);
    std::vector<int> seen(train.size(), 0);
    for (std::uint32_t u = 0; u < users; ++u) {
      CHECK_FALSE(p.shards[u].empty());
      CHECK(std::is_sorted(p.shards[u].begin(), p.shards[u].end()));
      for (const std::uint32_t s : p.shards[u]) {
        REQUIRE(s < train.size());
        CHECK(train.kinds[s] == u % kinds);
        ++seen[s];
      }
    }
    // Every training sample of every kind exactly once (kind 0 has users 0, 3, 6, 9, ...).
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  }
  // iid within a kind: its users' shard sizes differ by at most one.
  Rng rng(43);
  const Partition p = make_specialty_partition(train, users, kinds, PartitionKind::iid, 0.5, 2, rng);
  for (std::uint32_t k = 0; k < kinds; ++k) {
    std::size_t smallest = train.size(), largest = 0;
    for (std::uint32_t u = k; u < users; u += kinds)
      smallest = std::min(smallest, p.shards[u].size()), largest = std::max(largest, p.shards[u].size());
    CHECK(largest - smallest <= 1);
  }
}

TEST_CASE("specialties: one kind is the usual partition, draw for draw", "[dataset][arithmetic]") {
  Rng data_rng(44);
  const Dataset arithmetic = synthetic_arithmetic(1, 6, 500, 0, data_rng).train;
  const Dataset mixture = synthetic_mixture(2, 4, 500, 0, 1.0, data_rng).train;  // no kinds at all
  for (const Dataset* train : {&arithmetic, &mixture})
    for (const PartitionKind kind : {PartitionKind::iid, PartitionKind::dirichlet, PartitionKind::shards}) {
      Rng a(45), b(45);
      CHECK(make_specialty_partition(*train, 12, 1, kind, 0.3, 2, a).shards ==
            make_partition(*train, 12, kind, 0.3, 2, b).shards);
      CHECK(a() == b());  // and the stream is left where make_partition leaves it
    }
}

TEST_CASE("specialties: more kinds than users, data without kinds and a kind short of samples throw",
          "[dataset][arithmetic]") {
  Rng data_rng(46);
  const Dataset train = synthetic_arithmetic(4, 3, 200, 0, data_rng).train;
  const Dataset mixture = synthetic_mixture(2, 4, 200, 0, 1.0, data_rng).train;
  Rng rng(47);
  CHECK_THROWS_AS(make_specialty_partition(train, 3, 4, PartitionKind::iid, 0.5, 2, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_specialty_partition(train, 8, 0, PartitionKind::iid, 0.5, 2, rng), std::invalid_argument);
  CHECK_THROWS_AS(make_specialty_partition(mixture, 8, 2, PartitionKind::iid, 0.5, 2, rng), std::invalid_argument);
  // 200 samples, about 50 of each kind: 60 users per kind are too many.
  CHECK_THROWS_AS(make_specialty_partition(train, 240, 4, PartitionKind::iid, 0.5, 2, rng), std::invalid_argument);
}
