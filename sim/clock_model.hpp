#pragma once
// What the event loops (sim/event_engine.hpp), the gossip policies (sim/gossip_policy.hpp)
// and the network layer (sim/message_layer.hpp) require of the models they drive, as C++20
// concepts: a model that lacks a member fails to compile with the member named, and nothing
// costs a virtual call per event. Internal to sim/.
#include <concepts>
#include <cstdint>

namespace timely::sim::engine {

// What a gossip policy may read of the users: size() users on graph(), and age(i), user i's
// version staleness summed over the tracked sources (source model: behind the source).
template <class M>
concept GossipView = requires(const M& m, std::uint32_t u) {
  { m.size() } -> std::convertible_to<std::uint32_t>;
  m.graph();
  { m.age(u) } -> std::convertible_to<std::uint64_t>;
};

// A model on the clocks: tracked() update clocks (slots; clock_user() maps a slot to its
// user), update(slot, t) is a tick of slot's update clock, gossip(i, j, t) a contact of
// caller i with partner j (what it does depends on the gossip mode), before_event(t) runs
// before every event (learning observes its metrics there), start_window(t) once at the
// warm-up's end.
template <class M>
concept ClockModel = GossipView<M> && requires(M& m, const M& cm, std::uint32_t u, double t) {
  { cm.tracked() } -> std::convertible_to<std::uint32_t>;
  m.update(u, t);
  m.gossip(u, u, t);
  m.before_event(t);
  m.start_window(t);
};

// A model whose contacts the network layer can carry as messages (docs/model.md §7):
// snapshot(i) copies user i's state into a message and returns its id, deliver(r, id, t)
// merges it into user r and returns by how much r's age fell, release(id) frees it; users()
// is the users model that measures staleness, source_slot(clock slot) its slot or ~0.
template <class M>
concept MessageModel = ClockModel<M> && requires(M& m, const M& cm, std::uint32_t u, double t) {
  { m.snapshot(u) } -> std::same_as<std::uint32_t>;
  { m.deliver(u, u, t) } -> std::same_as<std::uint64_t>;
  m.release(u);
  cm.users();
  { cm.source_slot(u) } -> std::convertible_to<std::uint32_t>;
};

}  // namespace timely::sim::engine
