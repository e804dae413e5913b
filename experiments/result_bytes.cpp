#include "experiments/result_bytes.hpp"

#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/split_free.hpp>
#include <boost/serialization/vector.hpp>
#include <optional>
#include <sstream>

// Every field of every result type, in declaration order. A field added to a result struct
// must be added here too: these sizes (64-bit libstdc++) stop the build until it is, and
// tests/mpi/result_bytes_test.cpp fills every field with distinct values and checks that they
// come back.
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::TrialResult) == 320, "serialize TrialResult's new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::LearningTrialResult) == 768,
              "serialize LearningTrialResult's new field below");
// An observation's metrics are one array whatever metrics there are (sim/learning_metrics.hpp).
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::Observation) == sizeof(double) + sizeof(timely::sim::MetricValues) +
                                                                        sizeof(std::vector<double>),
              "serialize Observation's new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::Communication) == 104, "serialize Communication's new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::Availability) == 24, "serialize Availability's new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::RoundCounts) == 72, "serialize RoundCounts's new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::ExperienceCounts) == 152,
              "serialize ExperienceCounts' new field below");
static_assert(sizeof(void*) != 8 || sizeof(timely::sim::StationaryErrors) == 24,
              "serialize StationaryErrors' new field below");

namespace boost::serialization {

// std::optional (Boost 1.74 has only boost::optional): a flag, then the value if there is one.
template <class Archive, class T>
void save(Archive& a, const std::optional<T>& x, unsigned) {
  const bool present = x.has_value();
  a << present;
  if (present) a << *x;
}

template <class Archive, class T>
void load(Archive& a, std::optional<T>& x, unsigned) {
  bool present = false;
  a >> present;
  if (!present) {
    x.reset();
    return;
  }
  T value{};
  a >> value;
  x = std::move(value);
}

template <class Archive, class T>
void serialize(Archive& a, std::optional<T>& x, unsigned version) {
  split_free(a, x, version);
}

template <class Archive>
void serialize(Archive& a, timely::sim::Communication& c, unsigned) {
  a & c.messages_sent & c.messages_delivered & c.messages_lost & c.requests_sent & c.ticks_dropped & c.ticks_offline;
  a & c.bytes_sent & c.bytes_received & c.bytes_sent_per_user_max & c.bytes_received_per_user_max;
  a & c.queueing_delay & c.queued & c.latency_total;
}

template <class Archive>
void serialize(Archive& a, timely::sim::RoundCounts& m, unsigned) {
  a & m.rounds_abandoned & m.aggregations & m.models_aggregated & m.trainings_started & m.trainings_interrupted & m.trainings_lost;
  a & m.model_age_total;
  a & m.sample_overlap_total & m.sample_overlaps;
}

template <class Archive>
void serialize(Archive& a, timely::sim::ExperienceCounts& e, unsigned) {
  a & e.total_reward & e.rewarded_updates & e.rollouts_generated & e.rollouts_received & e.zero_advantage;
  a & e.local_used & e.external_used;
  a & e.age_updates_total & e.learner_age_total & e.age_time_total & e.divergence_total;
  for (std::uint64_t& bin : e.age_histogram) a & bin;
}

template <class Archive>
void serialize(Archive& a, timely::sim::Availability& v, unsigned) {
  a & v.online_fraction & v.mean_staleness_online;
}

template <class Archive>
void serialize(Archive& a, timely::sim::TrialResult& t, unsigned) {
  a & t.mean_staleness & t.max_mean & t.max_all_mean & t.staleness_time & t.worst_time & t.max_all_time & t.events & t.gossip_sends;
  a & t.source_user & t.source_mean & t.communication & t.availability;
  a & t.mean_age_time;
}

template <class Archive>
void serialize(Archive& a, timely::sim::Observation& o, unsigned) {
  a & o.time;
  for (std::optional<double>& value : o.values) a & value;
  a & o.weight_variance;
}

template <class Archive>
void serialize(Archive& a, timely::sim::StationaryErrors& e, unsigned) {
  a & e.error & e.worst_error & e.consensus;
}

template <class Archive>
void serialize(Archive& a, timely::sim::LearningTrialResult& r, unsigned) {
  a & r.observations & r.time_to_target & r.time_to_distance & r.time_to_loss & r.stationary & r.heterogeneity;
  a & r.staleness & r.plateau_time & r.baseline_plateau_time & r.local_updates & r.gossips & r.rounds;
  a & r.diverged_at & r.baseline_diverged_at & r.round_counts & r.experience;
}

}  // namespace boost::serialization

namespace timely::experiments {
namespace {

template <class T>
std::string save(const T& value) {
  std::ostringstream stream;
  {
    boost::archive::binary_oarchive archive(stream, boost::archive::no_header);
    archive << value;
  }
  return std::move(stream).str();
}

template <class T>
void load(const std::string& bytes, T& value) {
  std::istringstream stream(bytes);
  boost::archive::binary_iarchive archive(stream, boost::archive::no_header);
  archive >> value;
}

}  // namespace

std::string to_bytes(const sim::TrialResult& result) { return save(result); }
std::string to_bytes(const sim::LearningTrialResult& result) { return save(result); }
std::string to_bytes(const std::vector<sim::TrialResult>& results) { return save(results); }
std::string to_bytes(const std::vector<sim::LearningTrialResult>& results) { return save(results); }

void from_bytes(const std::string& bytes, sim::TrialResult& result) { load(bytes, result); }
void from_bytes(const std::string& bytes, sim::LearningTrialResult& result) { load(bytes, result); }
void from_bytes(const std::string& bytes, std::vector<sim::TrialResult>& results) { load(bytes, results); }
void from_bytes(const std::string& bytes, std::vector<sim::LearningTrialResult>& results) { load(bytes, results); }

}  // namespace timely::experiments
