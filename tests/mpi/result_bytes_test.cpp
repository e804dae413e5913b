// Results as bytes (experiments/result_bytes.hpp): every field of every result type comes
// back with its bits, present and absent optionals alike.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "experiments/result_bytes.hpp"

using namespace timely;
using namespace timely::experiments;

namespace {

// Values a decimal round trip at default precision would change, and signed zero.
double odd(double k) { return std::nextafter(1.0 / (7.0 + k), 1.0) * (static_cast<int>(k) % 2 ? -1.0 : 1.0); }

sim::TrialResult full_trial(double k) {
  sim::TrialResult t;
  t.mean_staleness = odd(k + 1);
  t.max_mean = odd(k + 2);
  t.max_all_mean = odd(k + 3);
  t.staleness_time = {odd(k + 4), -0.0, std::numeric_limits<double>::denorm_min()};
  t.worst_time = {odd(k + 5)};
  t.max_all_time = {odd(k + 6), odd(k + 7)};
  t.events = 0xfedcba9876543210ull;
  t.source_user = {3, 0xffffffffu};
  t.source_mean = {odd(k + 8)};
  sim::Communication c;
  c.messages_sent = 1;
  c.messages_delivered = 2;
  c.messages_lost = 3;
  c.requests_sent = 4;
  c.ticks_dropped = 5;
  c.ticks_offline = 6;
  c.bytes_sent = odd(k + 9);
  c.bytes_received = odd(k + 10);
  c.bytes_sent_per_user_max = odd(k + 11);
  c.bytes_received_per_user_max = odd(k + 12);
  c.queueing_delay = odd(k + 13);
  c.queued = 7;
  c.latency_total = odd(k + 14);
  t.communication = c;
  t.availability = sim::Availability{odd(k + 15), odd(k + 16)};
  return t;
}

sim::Observation full_observation(double k) {
  sim::Observation o;
  o.time = odd(k);
  o[sim::metric::loss] = odd(k + 1);
  o[sim::metric::accuracy] = odd(k + 2);
  o[sim::metric::user_loss] = odd(k + 3);
  o[sim::metric::worst_user_loss] = odd(k + 4);
  o[sim::metric::user_accuracy] = odd(k + 5);
  o[sim::metric::train_loss] = odd(k + 6);
  o[sim::metric::consensus_distance] = odd(k + 7);
  o[sim::metric::distance_to_optimum] = odd(k + 8);
  o[sim::metric::max_user_distance_to_optimum] = odd(k + 9);
  o[sim::metric::user_error] = odd(k + 10);
  o[sim::metric::worst_user_error] = odd(k + 11);
  o.weight_variance = {odd(k + 12), odd(k + 13)};
  o[sim::metric::bytes_sent_per_user] = odd(k + 14);
  return o;
}

sim::LearningTrialResult full_learning(double k) {
  sim::LearningTrialResult r;
  r.observations = {full_observation(k), sim::Observation{}};
  r.time_to_target = odd(k + 20);
  r.time_to_distance = odd(k + 21);
  r.time_to_loss = odd(k + 22);
  r.stationary = sim::StationaryErrors{odd(k + 23), odd(k + 24), odd(k + 25)};
  r.heterogeneity = odd(k + 26);
  r.staleness = full_trial(k + 27);
  r.plateau_time = odd(k + 28);
  r.baseline_plateau_time = odd(k + 29);
  r.local_updates = 11;
  r.gossips = 12;
  r.rounds = 13;
  r.diverged_at = odd(k + 30);
  r.baseline_diverged_at = odd(k + 31);
  sim::RoundCounts& c = r.round_counts.emplace();
  c.rounds_abandoned = 14;
  c.aggregations = 15;
  c.models_aggregated = 16;
  c.trainings_started = 17;
  c.trainings_interrupted = 18;
  c.trainings_lost = 19;
  c.model_age_total = odd(k + 32);
  c.sample_overlap_total = odd(k + 33);
  c.sample_overlaps = 20;
  sim::ExperienceCounts& e = r.experience.emplace();
  e.total_reward = odd(k + 34);
  e.rewarded_updates = 21;
  e.rollouts_generated = 22;
  e.rollouts_received = 23;
  e.zero_advantage = 24;
  e.local_used = 25;
  e.external_used = 26;
  e.age_updates_total = odd(k + 35);
  e.learner_age_total = odd(k + 36);
  e.age_time_total = odd(k + 37);
  e.divergence_total = odd(k + 38);
  for (std::size_t b = 0; b < e.age_histogram.size(); ++b) e.age_histogram[b] = 27 + b;
  return r;
}

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

void check_same(const sim::TrialResult& a, const sim::TrialResult& b) {
  CHECK(same(a.mean_staleness, b.mean_staleness));
  CHECK(same(a.max_mean, b.max_mean));
  CHECK(same(a.max_all_mean, b.max_all_mean));
  CHECK(same(a.staleness_time, b.staleness_time));
  CHECK(same(a.worst_time, b.worst_time));
  CHECK(same(a.max_all_time, b.max_all_time));
  CHECK(a.events == b.events);
  CHECK(a.source_user == b.source_user);
  CHECK(same(a.source_mean, b.source_mean));
  REQUIRE(a.communication.has_value() == b.communication.has_value());
  if (a.communication) {
    const auto &x = *a.communication, &y = *b.communication;
    CHECK(x.messages_sent == y.messages_sent);
    CHECK(x.messages_delivered == y.messages_delivered);
    CHECK(x.messages_lost == y.messages_lost);
    CHECK(x.requests_sent == y.requests_sent);
    CHECK(x.ticks_dropped == y.ticks_dropped);
    CHECK(x.ticks_offline == y.ticks_offline);
    CHECK(same(x.bytes_sent, y.bytes_sent));
    CHECK(same(x.bytes_received, y.bytes_received));
    CHECK(same(x.bytes_sent_per_user_max, y.bytes_sent_per_user_max));
    CHECK(same(x.bytes_received_per_user_max, y.bytes_received_per_user_max));
    CHECK(same(x.queueing_delay, y.queueing_delay));
    CHECK(x.queued == y.queued);
    CHECK(same(x.latency_total, y.latency_total));
  }
  REQUIRE(a.availability.has_value() == b.availability.has_value());
  if (a.availability) {
    CHECK(same(a.availability->online_fraction, b.availability->online_fraction));
    CHECK(same(a.availability->mean_staleness_online, b.availability->mean_staleness_online));
  }
}

void check_same(const sim::Observation& a, const sim::Observation& b) {
  CHECK(same(a.time, b.time));
  CHECK(same(a[sim::metric::loss], b[sim::metric::loss]));
  CHECK(same(a[sim::metric::accuracy], b[sim::metric::accuracy]));
  CHECK(same(a[sim::metric::user_loss], b[sim::metric::user_loss]));
  CHECK(same(a[sim::metric::worst_user_loss], b[sim::metric::worst_user_loss]));
  CHECK(same(a[sim::metric::user_accuracy], b[sim::metric::user_accuracy]));
  CHECK(same(a[sim::metric::train_loss], b[sim::metric::train_loss]));
  CHECK(same(a[sim::metric::consensus_distance], b[sim::metric::consensus_distance]));
  CHECK(same(a[sim::metric::distance_to_optimum], b[sim::metric::distance_to_optimum]));
  CHECK(same(a[sim::metric::max_user_distance_to_optimum], b[sim::metric::max_user_distance_to_optimum]));
  CHECK(same(a[sim::metric::user_error], b[sim::metric::user_error]));
  CHECK(same(a[sim::metric::worst_user_error], b[sim::metric::worst_user_error]));
  CHECK(same(a.weight_variance, b.weight_variance));
  CHECK(same(a[sim::metric::bytes_sent_per_user], b[sim::metric::bytes_sent_per_user]));
}

void check_same(const sim::LearningTrialResult& a, const sim::LearningTrialResult& b) {
  REQUIRE(a.observations.size() == b.observations.size());
  for (std::size_t i = 0; i < a.observations.size(); ++i) check_same(a.observations[i], b.observations[i]);
  CHECK(same(a.time_to_target, b.time_to_target));
  CHECK(same(a.time_to_distance, b.time_to_distance));
  CHECK(same(a.time_to_loss, b.time_to_loss));
  REQUIRE(a.stationary.has_value() == b.stationary.has_value());
  if (a.stationary) {
    CHECK(same(a.stationary->error, b.stationary->error));
    CHECK(same(a.stationary->worst_error, b.stationary->worst_error));
    CHECK(same(a.stationary->consensus, b.stationary->consensus));
  }
  CHECK(same(a.heterogeneity, b.heterogeneity));
  check_same(a.staleness, b.staleness);
  CHECK(same(a.plateau_time, b.plateau_time));
  CHECK(same(a.baseline_plateau_time, b.baseline_plateau_time));
  CHECK(a.local_updates == b.local_updates);
  CHECK(a.gossips == b.gossips);
  CHECK(a.rounds == b.rounds);
  CHECK(same(a.diverged_at, b.diverged_at));
  CHECK(same(a.baseline_diverged_at, b.baseline_diverged_at));
  REQUIRE(a.round_counts.has_value() == b.round_counts.has_value());
  if (a.round_counts) {
    const sim::RoundCounts &x = *a.round_counts, &y = *b.round_counts;
    CHECK(x.rounds_abandoned == y.rounds_abandoned);
    CHECK(x.aggregations == y.aggregations);
    CHECK(x.models_aggregated == y.models_aggregated);
    CHECK(x.trainings_started == y.trainings_started);
    CHECK(x.trainings_interrupted == y.trainings_interrupted);
    CHECK(x.trainings_lost == y.trainings_lost);
    CHECK(same(x.model_age_total, y.model_age_total));
    CHECK(same(x.sample_overlap_total, y.sample_overlap_total));
    CHECK(x.sample_overlaps == y.sample_overlaps);
  }
  REQUIRE(a.experience.has_value() == b.experience.has_value());
  if (a.experience) {
    const sim::ExperienceCounts &x = *a.experience, &y = *b.experience;
    CHECK(same(x.total_reward, y.total_reward));
    CHECK(x.rewarded_updates == y.rewarded_updates);
    CHECK(x.rollouts_generated == y.rollouts_generated);
    CHECK(x.rollouts_received == y.rollouts_received);
    CHECK(x.zero_advantage == y.zero_advantage);
    CHECK(x.local_used == y.local_used);
    CHECK(x.external_used == y.external_used);
    CHECK(same(x.age_updates_total, y.age_updates_total));
    CHECK(same(x.learner_age_total, y.learner_age_total));
    CHECK(same(x.age_time_total, y.age_time_total));
    CHECK(same(x.divergence_total, y.divergence_total));
    CHECK(x.age_histogram == y.age_histogram);
  }
}

}  // namespace

TEST_CASE("a trial result survives its bytes bit for bit, with and without its optional parts", "[mpi][bytes]") {
  const sim::TrialResult full = full_trial(0);
  sim::TrialResult back;
  from_bytes(to_bytes(full), back);
  check_same(full, back);
  const sim::TrialResult bare;  // no communication, no availability, empty histograms
  from_bytes(to_bytes(bare), back);  // over a full one: the optionals must be emptied
  check_same(bare, back);
  std::vector<sim::TrialResult> many{full_trial(1), bare, full_trial(2)}, many_back;
  from_bytes(to_bytes(many), many_back);
  REQUIRE(many_back.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) check_same(many[i], many_back[i]);
}

TEST_CASE("a learning trial result survives its bytes bit for bit", "[mpi][bytes]") {
  const sim::LearningTrialResult full = full_learning(0);
  sim::LearningTrialResult back;
  from_bytes(to_bytes(full), back);
  check_same(full, back);
  const sim::LearningTrialResult bare;
  from_bytes(to_bytes(bare), back);
  check_same(bare, back);
  std::vector<sim::LearningTrialResult> many{full_learning(1), full_learning(2)}, many_back;
  from_bytes(to_bytes(many), many_back);
  REQUIRE(many_back.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) check_same(many[i], many_back[i]);
}
