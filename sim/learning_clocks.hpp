#pragma once
// Learning on the clocks (docs/model.md §4, §6): a ClockModel and MessageModel
// (sim/clock_model.hpp) that trains and mixes the learner's models at the users model's
// events and measures staleness in the same run. Internal to sim/.
#include <cstdint>
#include <vector>

#include "sim/users_model.hpp"

namespace timely::sim::engine {

// ---- learning on the clocks (docs/model.md §4, §6) -------------------------------------

// Every user updates on its own clock, gossip mixes models in the mode's direction, and the
// users model measures staleness in the same run. The Learner holds the models:
// train(user, t), mix_into(receiver, sender, t), mix_both(i, j, t), and the hooks before(t)
// (before every event), start_window(t) and close(t).
template <class G, GossipMode Mode, class Learner>
class LearningClocks {
 public:
  LearningClocks(const Scenario& s, const G& graph, Learner& learner, Rng& rng)
      : staleness_(s, graph, rng, no_trace_), learner_(learner), slot_of_(graph.size(), none) {
    for (std::uint32_t slot = 0; slot < staleness_.tracked(); ++slot) slot_of_[staleness_.tracked_user(slot)] = slot;
  }
  std::uint32_t tracked() const { return staleness_.size(); }  // every user updates on its own clock
  std::uint32_t size() const { return staleness_.size(); }
  const G& graph() const { return staleness_.graph(); }
  std::uint64_t age(std::uint32_t i) const { return staleness_.age(i); }
  void before_event(double t) { learner_.before(t); }
  void start_window(double t) {
    staleness_.start_window(t);
    learner_.start_window(t);
  }

  void update(std::uint32_t user, double t) {
    learner_.train(user, t);
    ++updates_;
    if (slot_of_[user] != none) staleness_.update(slot_of_[user], t);
  }

  void gossip(std::uint32_t i, std::uint32_t j, double t) {
    staleness_.gossip(i, j, t);
    ++gossips_;
    if constexpr (Mode == GossipMode::push) learner_.mix_into(j, i, t);
    else if constexpr (Mode == GossipMode::pull) learner_.mix_into(i, j, t);
    else learner_.mix_both(i, j, t);
  }

  void close(double t) {
    staleness_.close(t);
    learner_.close(t);
  }

  // ---- messages of the network layer: the sender's versions and its model ----
  std::uint32_t snapshot(std::uint32_t user) {
    const std::uint32_t id = staleness_.snapshot(user);
    if (id >= model_of_.size()) model_of_.resize(id + 1);
    model_of_[id] = learner_.snapshot(user);
    return id;
  }
  std::uint64_t deliver(std::uint32_t r, std::uint32_t id, double t) {
    ++gossips_;
    learner_.mix_message(r, model_of_[id], t);
    return staleness_.deliver(r, id, t);
  }
  void release(std::uint32_t id) {
    learner_.release(model_of_[id]);
    staleness_.release(id);
  }
  double message_bytes() const { return learner_.message_bytes(); }
  void count_bytes(const double* bytes_sent) { learner_.count_bytes(bytes_sent); }
  const UsersModel<G, Mode>& users() const { return staleness_; }
  std::uint32_t source_slot(std::uint32_t user) const { return slot_of_[user]; }

  const UsersModel<G, Mode>& staleness() const { return staleness_; }
  std::uint64_t updates() const { return updates_; }
  std::uint64_t gossips() const { return gossips_; }

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  NoTrace no_trace_;
  UsersModel<G, Mode> staleness_;
  Learner& learner_;
  std::vector<std::uint32_t> slot_of_;  // user -> tracked slot, or none
  std::vector<std::uint32_t> model_of_;  // message -> the learner's copy of the sender's model
  std::uint64_t updates_ = 0, gossips_ = 0;
};

}  // namespace timely::sim::engine
