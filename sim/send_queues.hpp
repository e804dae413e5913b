#pragma once
// Every user's FIFO of sends waiting for its busy uplink (gossip.busy = "queue"; docs/model.md
// §7.1), as linked lists in one shared pool: 8 bytes per user (the ends of its list) and one
// node per waiting send, reused once taken. A std::deque per user cost about 650 bytes per user
// whether or not anything ever waited (libstdc++ allocates a 512-byte block and its map up
// front): 6.5 GB at 10^7 users (issue 28). Internal to sim/.
#include <cstdint>
#include <vector>

namespace timely::sim {

template <class Item>
class SendQueues {
 public:
  explicit SendQueues(std::uint32_t users) : ends_(users, Ends{none, none}) {}

  bool empty(std::uint32_t user) const { return ends_[user].head == none; }

  void push_back(std::uint32_t user, const Item& item) {
    const std::uint32_t node = new_node(item);
    Ends& e = ends_[user];
    if (e.head == none) e.head = node;
    else nodes_[e.tail].next = node;
    e.tail = node;
  }

  // The oldest waiting send of a user whose queue is not empty, removed.
  Item pop_front(std::uint32_t user) {
    Ends& e = ends_[user];
    const std::uint32_t node = e.head;
    e.head = nodes_[node].next;
    if (e.head == none) e.tail = none;
    free_.push_back(node);
    return nodes_[node].item;
  }

  // Empties a user's queue; returns how many sends it held.
  std::uint64_t clear(std::uint32_t user) {
    std::uint64_t count = 0;
    Ends& e = ends_[user];
    for (std::uint32_t node = e.head; node != none;) {
      const std::uint32_t next = nodes_[node].next;
      free_.push_back(node);
      node = next;
      ++count;
    }
    e = Ends{none, none};
    return count;
  }

  // Bytes per user, and per waiting send (sim/cost.hpp counts both).
  static constexpr double bytes_per_user = 2 * sizeof(std::uint32_t);
  static constexpr double bytes_per_send = sizeof(Item) + 2 * sizeof(std::uint32_t);  // node, free-list slot

 private:
  static constexpr std::uint32_t none = ~std::uint32_t{0};
  struct Ends {
    std::uint32_t head, tail;
  };
  struct Node {
    Item item;
    std::uint32_t next;
  };

  std::uint32_t new_node(const Item& item) {
    if (!free_.empty()) {
      const std::uint32_t node = free_.back();
      free_.pop_back();
      nodes_[node] = Node{item, none};
      return node;
    }
    nodes_.push_back(Node{item, none});
    return static_cast<std::uint32_t>(nodes_.size() - 1);
  }
  std::vector<Ends> ends_;
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> free_;
};

}  // namespace timely::sim
