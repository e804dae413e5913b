#include "experiments/units.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <fmt/format.h>
#include <mutex>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <thread>

#include "experiments/ranks.hpp"
#include "experiments/run_control.hpp"

#if TIMELY_MPI
#include <csignal>
#include <unistd.h>

#include <boost/mpi/communicator.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include "experiments/result_bytes.hpp"
#endif

namespace timely::experiments {
namespace {

// Runs `loop` on `workers` threads at once and waits for all of them; an exception thrown
// by a loop is rethrown here.
void on_threads(int workers, const std::function<void()>& loop) {
  tbb::task_arena arena(workers);
  arena.execute([&] {
    tbb::task_group group;
    for (int w = 0; w < workers; ++w) group.run(loop);
    group.wait();
  });
}

// One process: `workers` threads take unit indices in order from one counter.
// A RunControl installed on the calling thread (the Python module's) may stop the run: no
// other unit starts, the running ones stop at their next checkpoint (sim/stop.hpp), and the
// run throws Interrupted unless every unit had finished whole.
void run_units_here(const UnitWork& work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};  // a unit failed: start no other
  std::mutex finish;
  const RunControl* control = current_control();
  const auto go_on = [&] { return !stop && !(control && control->stop_requested()); };
  std::atomic<std::size_t> started{0};
  on_threads(sim::trial_threads(work.threads), [&] {
    const sim::StopScope trials_stop(control ? control->stop_flag() : nullptr);
    for (std::size_t k; go_on() && (k = next++) < work.count;) {
      ++started;
      try {
        work.run(k);
        const std::lock_guard lock(finish);
        work.finished(k);
      } catch (...) {
        stop = true;
        throw;
      }
    }
  });
  if (started < work.count) throw Interrupted();  // stopped (a failure has thrown already)
}

#if TIMELY_MPI

enum Tag : int { request = 1, assign, result, failed, done };

// A finished unit's result (or its failure's message) on its way to rank 0.
struct UnitMessage {
  std::uint64_t unit = 0;
  std::string bytes;
  template <class Archive>
  void serialize(Archive& a, unsigned) {
    a & unit & bytes;
  }
};

// Units handed to a rank; none means none are left. (A struct, so Boost.MPI serialises it:
// its array path for a bare vector dereferences the data of an empty one.)
struct Assignment {
  std::vector<std::uint64_t> units;
  template <class Archive>
  void serialize(Archive& a, unsigned) {
    a & units;
  }
};

std::string what_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The ranks poll for messages rather than block in MPI, so an idle rank costs no core (a
// blocking MPI receive spins). The pause grows while nothing arrives: at most 2 ms of delay
// per request, against units that take milliseconds to hours.
class Backoff {
 public:
  void reset() { pause_ = std::chrono::microseconds(20); }
  void wait() {
    std::this_thread::sleep_for(pause_);
    pause_ = std::min(pause_ * 2, std::chrono::microseconds(2000));
  }

 private:
  std::chrono::microseconds pause_{20};
};

// Which rank holds each unfinished unit, so that a run that ends by a signal names them. A
// rank that crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) names the units it was
// running. When a rank dies (killed, out of memory), mpirun stops the others with SIGTERM;
// rank 0 then names every unit it had handed out that had not come back, the dead rank's
// among them (mpirun's own message names the dead rank). The handler only reads text made
// beforehand and atomics, and calls write(2): it is async-signal-safe.
class UnitsInFlight {
 public:
  explicit UnitsInFlight(const UnitWork& work) : text_(work.count), owner_(new std::atomic<int>[work.count]) {
    for (std::size_t k = 0; k < work.count; ++k) {
      text_[k] = work.describe ? work.describe(k) : fmt::format("unit {}", k);
      owner_[k].store(-1, std::memory_order_relaxed);
    }
    current.store(this);
    struct sigaction action {};
    action.sa_handler = &UnitsInFlight::handle;
    sigemptyset(&action.sa_mask);  // one report at a time: the others wait while it is written
    for (const int signal : signals) sigaddset(&action.sa_mask, signal);
    for (std::size_t i = 0; i < signals.size(); ++i) sigaction(signals[i], &action, &previous_[i]);
  }
  ~UnitsInFlight() {
    for (std::size_t i = 0; i < signals.size(); ++i) sigaction(signals[i], &previous_[i], nullptr);
    current.store(nullptr);
  }
  UnitsInFlight(const UnitsInFlight&) = delete;
  UnitsInFlight& operator=(const UnitsInFlight&) = delete;

  void hold(std::size_t unit, int rank) { owner_[unit].store(rank, std::memory_order_relaxed); }
  void release(std::size_t unit) { owner_[unit].store(-1, std::memory_order_relaxed); }

 private:
  static constexpr std::array<int, 6> signals{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM};
  static inline std::atomic<UnitsInFlight*> current{nullptr};

  static void put(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
      if (n <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  static void put(long value) {  // no formatting library in a signal handler
    char digits[24];
    std::size_t i = sizeof digits;
    const bool negative = value < 0;
    unsigned long v = negative ? 0ul - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
      digits[--i] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (negative) digits[--i] = '-';
    put(std::string_view(digits + i, sizeof digits - i));
  }

  static void handle(int signal) {
    const UnitsInFlight* f = current.load();
    const bool stopped = signal == SIGTERM;  // from outside: only rank 0 has something to say
    if (f != nullptr && (!stopped || ranks::root())) {
      const int me = ranks::rank();
      put("timely: rank ");
      put(static_cast<long>(me));
      put(stopped ? " was stopped" : " crashed");
      put(" (signal ");
      put(static_cast<long>(signal));
      put("); these units did not finish (--resume reruns them):\n");
      for (std::size_t k = 0; k < f->text_.size(); ++k) {
        const int owner = f->owner_[k].load(std::memory_order_relaxed);
        if (owner < 0 || (!stopped && owner != me)) continue;
        put("  rank ");
        put(static_cast<long>(owner));
        put(": ");
        put(f->text_[k]);
        put("\n");
      }
    }
    // Then what would have happened without us (Open MPI's crash report, or the default
    // action), for the same signal.
    for (std::size_t i = 0; i < signals.size(); ++i)
      if (signals[i] == signal) sigaction(signal, f != nullptr ? &f->previous_[i] : nullptr, nullptr);
    if (f == nullptr) ::signal(signal, SIG_DFL);
    ::raise(signal);
  }

  std::vector<std::string> text_;
  std::unique_ptr<std::atomic<int>[]> owner_;
  std::array<struct sigaction, 6> previous_{};
};

// Rank 0's side of the pool: its own threads compute units while it answers the other
// ranks' requests, results and failures, until every rank has said it is done. Returns the
// first failure's message, or nothing.
class RootPool {
 public:
  explicit RootPool(const UnitWork& work) : work_(work), flight_(work) {}

  std::string run() {
    std::thread compute([&] { compute_here(); });
    serve();
    compute.join();
    return failure_;
  }

 private:
  std::string name(std::size_t unit) const {
    return work_.describe ? work_.describe(unit) : fmt::format("unit {}", unit);
  }
  void fail(std::string message) {
    const std::lock_guard lock(finish_);
    if (failure_.empty()) failure_ = std::move(message);
    stop_ = true;
  }
  void finish_unit(int rank, std::size_t unit) {
    try {
      const std::lock_guard lock(finish_);
      if (!stop_) work_.finished(unit);
    } catch (...) {  // rank 0's own step: recording the result (writing the files)
      fail(fmt::format("rank 0 failed recording the result of {} (run on rank {}): {}", name(unit), rank,
                       what_of(std::current_exception())));
    }
  }

  void compute_here() {
    on_threads(sim::trial_threads(work_.threads), [&] {
      for (std::size_t k; !stop_ && (k = next_++) < work_.count;) {
        flight_.hold(k, 0);
        try {
          work_.run(k);
        } catch (...) {
          fail(fmt::format("rank 0 failed on {}: {}", name(k), what_of(std::current_exception())));
          return;
        }
        finish_unit(0, k);
        flight_.release(k);
      }
    });
  }

  void serve() {
    int serving = ranks::size() - 1;  // ranks that have not said they are done
    Backoff backoff;
    while (serving > 0) {
      const auto status = world_.iprobe(boost::mpi::any_source, boost::mpi::any_tag);
      if (!status) {
        backoff.wait();
        continue;
      }
      backoff.reset();
      const int source = status->source();
      switch (status->tag()) {
        case request: hand_out(source); break;
        case result: receive_result(source); break;
        case failed: receive_failure(source); break;
        case done:
          world_.recv(source, done);
          --serving;
          break;
        default:
          world_.recv(source, status->tag());  // not ours: drop it
      }
    }
  }

  void hand_out(int source) {
    int wanted = 0;
    world_.recv(source, request, wanted);
    // At most 64 units a message (under 1 KiB): the send completes without waiting for the
    // worker, which may itself be blocked sending rank 0 a large result. A worker with more
    // threads asks again.
    wanted = std::clamp(wanted, 0, 64);
    Assignment given;
    if (!stop_) {
      const std::size_t first = next_.fetch_add(static_cast<std::size_t>(wanted));
      for (std::size_t k = first; k < std::min(first + wanted, work_.count); ++k) {
        given.units.push_back(k);
        flight_.hold(k, source);
      }
    }
    world_.send(source, assign, given);  // empty: nothing left, wind down
  }

  void receive_result(int source) {
    UnitMessage message;
    world_.recv(source, result, message);
    flight_.release(message.unit);
    if (stop_) return;
    try {
      work_.load(message.unit, message.bytes);
    } catch (...) {
      fail(fmt::format("rank 0 could not read rank {}'s result of {}: {}", source, name(message.unit),
                       what_of(std::current_exception())));
      return;
    }
    finish_unit(source, message.unit);
  }

  void receive_failure(int source) {
    UnitMessage message;
    world_.recv(source, failed, message);
    flight_.release(message.unit);
    fail(fmt::format("rank {} failed on {}: {}", source, name(message.unit), message.bytes));
  }

  const UnitWork& work_;
  boost::mpi::communicator& world_ = ranks::communicator();
  UnitsInFlight flight_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex finish_;    // finished() and the failure record
  std::string failure_;  // the first failure's message
};

// Ranks > 0: ask rank 0 for units, run them on this rank's threads, send back the results.
void run_units_worker(const UnitWork& work) {
  auto& world = ranks::communicator();
  UnitsInFlight flight(work);
  const int workers = sim::trial_threads(work.threads);
  // Units asked for, queued and running: one more than the threads, so a thread that finishes
  // finds its next unit here while the request for the one after travels.
  const std::size_t target = static_cast<std::size_t>(workers) + 1;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::size_t> queue;
  std::size_t running = 0;
  bool closed = false;
  std::atomic<bool> failed_here{false};  // written under `mutex`, read by the loop below too
  std::deque<std::pair<Tag, UnitMessage>> outbox;
  std::atomic<bool> computed{false};
  std::thread compute([&] {
    on_threads(workers, [&] {
      for (;;) {
        std::size_t k;
        {
          std::unique_lock lock(mutex);
          wake.wait(lock, [&] { return !queue.empty() || closed; });
          if (queue.empty()) return;
          k = queue.front();
          queue.pop_front();
          ++running;
        }
        std::pair<Tag, UnitMessage> message{result, UnitMessage{k, {}}};
        try {
          work.run(k);
          message.second.bytes = work.save(k);
        } catch (...) {
          message = {failed, UnitMessage{k, what_of(std::current_exception())}};
        }
        const std::lock_guard lock(mutex);
        flight.release(k);
        --running;
        if (message.first == failed) {  // stop here too: rank 0 hands out nothing more
          failed_here = true;
          queue.clear();
        }
        outbox.push_back(std::move(message));
      }
    });
    computed = true;
  });

  bool asked = false, no_more = false;
  Backoff backoff;
  for (;;) {
    bool active = false;
    std::deque<std::pair<Tag, UnitMessage>> sending;
    std::size_t in_hand;
    {
      const std::lock_guard lock(mutex);
      sending.swap(outbox);
      in_hand = queue.size() + running;
    }
    for (const auto& [tag, message] : sending) world.send(0, tag, message);
    active = !sending.empty();
    if (!asked && !no_more && !failed_here && in_hand < target) {
      world.send(0, request, static_cast<int>(target - in_hand));
      asked = true;
      active = true;
    }
    if (asked && world.iprobe(0, assign)) {
      Assignment given;
      world.recv(0, assign, given);
      const auto& units = given.units;
      asked = false;
      active = true;
      const std::lock_guard lock(mutex);
      if (units.empty()) {
        no_more = true;
        closed = true;
      } else if (!failed_here) {
        queue.insert(queue.end(), units.begin(), units.end());
        for (const auto k : units) flight.hold(k, ranks::rank());
      }
      wake.notify_all();
    }
    if (failed_here && !asked && !no_more) {  // nothing more to ask for; let the threads end
      const std::lock_guard lock(mutex);
      closed = true;
      no_more = true;
      wake.notify_all();
    }
    if (no_more && computed) {
      const std::lock_guard lock(mutex);
      if (outbox.empty()) break;
    }
    if (active) backoff.reset();
    else backoff.wait();
  }
  compute.join();
  world.send(0, done);
}

#endif

}  // namespace

void run_units(const UnitWork& work) {
  if (!ranks::distributed()) return run_units_here(work);
#if TIMELY_MPI
  std::string failure;
  if (ranks::root()) failure = RootPool(work).run();
  else run_units_worker(work);
  // Every rank learns whether the run failed (rank 0 knows), so all stop or go on together.
  // The agreement also keeps pools apart: no rank can start the next pool, and send rank 0 a
  // request for it, before rank 0 has left this one's message loop. (Without it, a request
  // for the next pool was once served from this one: results from one pool landed in the
  // other's slots.)
  ranks::agree([&] {
    if (!failure.empty()) throw std::runtime_error(failure);
  });
#endif
}

namespace {

template <class Result, class RunOne>
std::vector<Result> trials_on_ranks(std::uint32_t trials, unsigned threads, const sim::TrialProgress& progress,
                                    bool everywhere, RunOne run_one) {
  std::vector<Result> results(trials);
  std::uint32_t done = 0;
  UnitWork work;
  work.count = trials;
  work.threads = threads;
  work.run = [&](std::size_t k) { results[k] = run_one(k); };
  work.finished = [&](std::size_t) {
    if (progress) progress(++done);
  };
  work.describe = [](std::size_t k) { return fmt::format("trial {}", k); };
#if TIMELY_MPI
  work.save = [&](std::size_t k) {
    std::string bytes = to_bytes(results[k]);
    results[k] = Result{};
    return bytes;
  };
  work.load = [&](std::size_t k, const std::string& bytes) { from_bytes(bytes, results[k]); };
#endif
  run_units(work);
  if (!ranks::distributed()) return results;
  if (everywhere) {
#if TIMELY_MPI
    std::string bytes;
    if (ranks::root()) bytes = to_bytes(results);
    ranks::broadcast(bytes);
    if (!ranks::root()) from_bytes(bytes, results);
#endif
    return results;
  }
  if (!ranks::root()) results.clear();
  return results;
}

}  // namespace

std::vector<sim::TrialResult> trials_on_ranks(const sim::Scenario& scenario, const sim::Graph& graph, unsigned threads,
                                              const sim::TrialProgress& progress, bool everywhere) {
  return trials_on_ranks<sim::TrialResult>(scenario.run.trials, threads, progress, everywhere,
                                           [&](std::size_t k) { return sim::run_trial(scenario, graph, k); });
}

std::vector<sim::LearningTrialResult> learning_trials_on_ranks(const sim::Scenario& scenario, const sim::Graph& graph,
                                                               const sim::LearningData& data, unsigned threads,
                                                               const sim::TrialProgress& progress, bool everywhere) {
  return trials_on_ranks<sim::LearningTrialResult>(
      scenario.run.trials, threads, progress, everywhere,
      [&](std::size_t k) { return sim::run_learning_trial(scenario, graph, data, k); });
}

}  // namespace timely::experiments
