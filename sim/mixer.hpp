#pragma once
// The mixing rules of gossip learning (docs/model.md §4): at a contact the receiver mixes the
// sender's model into its own by mixing.rule (average, age-weighted or variance-corrected).
// Works on the users' models in a ModelBank; internal to sim/. Header-only so that the event
// loops inline the mix.
#include <cstdint>
#include <vector>

#include "models/variance_correction.hpp"
#include "sim/model_bank.hpp"

namespace timely::sim {

class Mixer {
 public:
  using Vector = ModelBank::Vector;

  Mixer(const Scenario& s, ModelBank& bank) : s_(s), bank_(bank) {
    correction_.biases = s.learning.mixing.correct_biases;
    targets_.assign(bank.layout().tensors().size(), 0.0);
  }

  // Receiver r mixes in the sender's model.
  void mix_into(std::uint32_t receiver, std::uint32_t sender, double t) {
    mix_from(receiver, bank_.params().col(sender), bank_.ages()[sender], t);
  }

  // Receiver r mixes in a message's model (the network layer's copy of the sender's).
  void mix_message(std::uint32_t receiver, std::uint32_t id, double t) {
    mix_from(receiver, bank_.message(id), bank_.message_age(id), t);
  }

  template <class Sender>
  void mix_from(std::uint32_t receiver, const Sender& sender, double sender_age, double t) {
    if (bank_.diverged()) return;
    auto& params = bank_.params();
    auto& ages = bank_.ages();
    if (s_.learning.mixing.rule == MixingRule::variance_corrected) {
      target_for(receiver, sender, targets_);
      params.col(receiver) = 0.5f * (params.col(receiver) + sender);
      models::correct_variance(params.col(receiver), bank_.layout(), targets_, correction_);
      bank_.check(params.col(receiver), t);
      return;
    }
    double w = 0.5;
    if (s_.learning.mixing.rule == MixingRule::age_weighted) {
      const double total = ages[receiver] + sender_age;
      w = total > 0.0 ? sender_age / total : 0.5;
      ages[receiver] = max_or_nan(ages[receiver], sender_age);
    }
    params.col(receiver) = (1.0f - static_cast<float>(w)) * params.col(receiver) + static_cast<float>(w) * sender;
    // The plain average of finite floats is finite (0.5 a + 0.5 b is at most FLT_MAX in
    // magnitude before rounding, so also after): no check. Other weights, each rounded to
    // float, can round a combination of values near FLT_MAX past it.
    if (s_.learning.mixing.rule != MixingRule::average) bank_.check(params.col(receiver), t);
  }

  // Exchange: both end with the same mixture (with variance correction, each rescaled to
  // its own target when the target counts received models only).
  void mix_both(std::uint32_t i, std::uint32_t j, double t) {
    if (bank_.diverged()) return;
    auto& params = bank_.params();
    if (s_.learning.mixing.rule == MixingRule::variance_corrected) {
      target_for(i, params.col(j), targets_);
      std::vector<double>& other = other_targets_;
      target_for(j, params.col(i), other);
      params.col(i) = 0.5f * (params.col(i) + params.col(j));
      params.col(j) = params.col(i);
      models::correct_variance(params.col(i), bank_.layout(), targets_, correction_);
      models::correct_variance(params.col(j), bank_.layout(), other, correction_);
      bank_.check(params.col(i), t);
      bank_.check(params.col(j), t);
      return;
    }
    mix_into(i, j, t);  // checks i; j becomes a copy
    params.col(j) = params.col(i);
    bank_.ages()[j] = bank_.ages()[i];
  }

 private:
  // Variance targets of the receiver's corrected average: the mean over both models, or the
  // sender's alone (docs/model.md §4, both choices seen in public code).
  template <class Sender>
  void target_for(std::uint32_t receiver, const Sender& sender, std::vector<double>& out) {
    models::tensor_variances(sender, bank_.layout(), correction_, out);
    if (s_.learning.mixing.variance_target == VarianceTarget::received) return;
    models::tensor_variances(bank_.params().col(receiver), bank_.layout(), correction_, own_variance_);
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = 0.5 * (out[k] + own_variance_[k]);
  }

  const Scenario& s_;
  ModelBank& bank_;
  models::CorrectionOptions correction_{};
  std::vector<double> targets_, other_targets_, own_variance_;
};

}  // namespace timely::sim
