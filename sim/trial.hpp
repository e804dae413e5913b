#pragma once
// One trial of the staleness simulation: an exact sample path of the continuous-time
// process of docs/model.md §1-2, integrated event by event.
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/topology.hpp"

namespace timely::sim {

// What the network layer counted (docs/model.md §7), over the whole run [0, horizon]. A
// message is sent when its transfer starts (its bytes are counted then); it is lost to
// gossip.loss, to its sender going offline before the transfer ends, or to its receiver
// being offline at any moment from the transfer's start to its arrival.
struct Communication {
  std::uint64_t messages_sent = 0;       // payload messages whose transfer started
  std::uint64_t messages_delivered = 0;  // merged by their receiver
  std::uint64_t messages_lost = 0;       // payload messages and pull requests lost
  std::uint64_t requests_sent = 0;       // pull requests (no payload, no uplink time)
  std::uint64_t ticks_dropped = 0;       // sends (ticks and replies) dropped: busy uplink (busy = drop), or queued when the sender went offline
  std::uint64_t ticks_offline = 0;       // gossip ticks of offline users (nothing sent)
  double bytes_sent = 0.0, bytes_received = 0.0;                          // totals over users
  double bytes_sent_per_user_max = 0.0, bytes_received_per_user_max = 0.0;  // the largest user's
  double queueing_delay = 0.0;  // total time ticks waited for a busy uplink (busy = queue)
  std::uint64_t queued = 0;     // sends that waited
  double latency_total = 0.0;   // total time from transfer start to arrival over delivered messages
};

// Churn (docs/model.md §7), time averages over the window.
struct Availability {
  double online_fraction = 0.0;  // mean over users of the time online, divided by the window
  // Staleness averaged over the pairs whose observer is online; empty if no observer was
  // online during the window.
  std::optional<double> mean_staleness_online;
};

struct TrialResult {
  double mean_staleness = 0.0;  // time average over the window, mean over (observer, source) pairs
  double max_mean = 0.0;        // time average of the worst observer's staleness, mean over sources
  double max_all_mean = 0.0;    // time average of the worst staleness over all tracked pairs
  // Source model: the time average over the window of the age in time t - u_i (sim/time_age.hpp),
  // mean over users; empty in the users model, which counts versions only.
  std::optional<double> mean_age_time;
  // staleness_time[a]: time-integral over the window of the number of pairs with staleness a.
  std::vector<double> staleness_time;
  // worst_time[w]: time-integral of the number of sources whose worst observer is w behind.
  std::vector<double> worst_time;
  // max_all_time[w]: time during which the worst staleness over all tracked pairs was w.
  std::vector<double> max_all_time;
  std::uint64_t events = 0;     // every event simulated, warm-up included
  // Contacts the gossip policy made over the whole run [0, horizon], summed over users: its
  // spending (a push, a pull request or an exchange counts once; a fan-out counts f).
  std::uint64_t gossip_sends = 0;
  // Users model: each tracked source's user and its mean staleness over its n-1 observers
  // (time average over the window). With heterogeneous users the tracked sources are the
  // same in every trial (sim/user_clocks.hpp), so each gets its own confidence interval.
  std::vector<std::uint32_t> source_user;
  std::vector<double> source_mean;
  std::optional<Communication> communication;  // with the network layer (Scenario::networked)
  std::optional<Availability> availability;    // with churn
};

// The scenario's network, drawn once from its own stream (run.seed, graph), so that every
// trial, and the exact theory, see the same graph. Throws InputError for bad network keys.
Graph scenario_graph(const Scenario& scenario);

// Runs trial `index` of the scenario on `graph`; its randomness comes from
// (scenario.run.seed, index) alone.
TrialResult run_trial(const Scenario& scenario, const Graph& graph, std::uint64_t index);

// One pair's staleness over time (a sample path, the "sawtooth"): every change of
// S_ik(t) for one observer i of one source k, from time 0 to the scenario's horizon.
struct StalenessStep {
  double time;
  std::uint32_t staleness;  // holds from `time` until the next step
};
struct SamplePath {
  std::uint32_t source, observer;
  std::vector<StalenessStep> steps;
};
// The users model only; the observer is the user farthest from the source in index order
// (antipodal on the ring). Same engine and randomness as run_trial(scenario, graph, index).
SamplePath sample_path(const Scenario& scenario, const Graph& graph, std::uint64_t index);

// Bytes of per-trial state the trial will allocate (the users model's views matrix
// dominates); lets callers refuse a scenario before allocating.
std::uint64_t trial_state_bytes(const Scenario& scenario);

// Rumour spreading (docs/model.md §3.7): one user holds a new version at time 0 and nobody
// updates again; gossip runs until every user has it. Same engine as the users model.
struct RumourResult {
  double all_informed = 0.0;  // time until every user holds the version
  double one_informed = 0.0;  // time until a given user (the one farthest in index order) holds it
};
RumourResult rumour_trial(const Scenario& scenario, const Graph& graph, std::uint64_t index);

}  // namespace timely::sim
