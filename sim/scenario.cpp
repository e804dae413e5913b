#include "sim/scenario.hpp"

namespace timely::sim {

namespace {

// Names and values of an enum, in one table per enum, for to_string and parse alike.
template <class E, std::size_t N>
std::string_view name_of(const std::pair<E, std::string_view> (&names)[N], E value) {
  for (const auto& [e, name] : names)
    if (e == value) return name;
  return "?";
}

template <class E, std::size_t N>
std::optional<E> value_of(const std::pair<E, std::string_view> (&names)[N], std::string_view text) {
  for (const auto& [e, name] : names)
    if (name == text) return e;
  return std::nullopt;
}

constexpr std::pair<ModelKind, std::string_view> model_kinds[] = {
    {ModelKind::none, "none"}, {ModelKind::linear, "linear"}, {ModelKind::logistic, "logistic"}, {ModelKind::mlp, "mlp"}};
constexpr std::pair<DataSource, std::string_view> data_sources[] = {
    {DataSource::synthetic_regression, "synthetic-regression"},
    {DataSource::synthetic_mixture, "synthetic-mixture"},
    {DataSource::fashion_mnist, "fashion-mnist"}};
constexpr std::pair<LrSchedule, std::string_view> lr_schedules[] = {
    {LrSchedule::constant, "constant"}, {LrSchedule::inverse_time, "inverse-time"}, {LrSchedule::step, "step"}};
constexpr std::pair<MixingRule, std::string_view> mixing_rules[] = {
    {MixingRule::average, "average"}, {MixingRule::age_weighted, "age-weighted"},
    {MixingRule::variance_corrected, "variance-corrected"}, {MixingRule::fedavg, "fedavg"}};
constexpr std::pair<VarianceTarget, std::string_view> variance_targets[] = {
    {VarianceTarget::contributing, "contributing"}, {VarianceTarget::received, "received"}};
constexpr std::pair<models::Activation, std::string_view> activations[] = {
    {models::Activation::relu, "relu"}, {models::Activation::tanh, "tanh"}};
constexpr std::pair<models::Init, std::string_view> inits[] = {{models::Init::xavier, "xavier"}, {models::Init::he, "he"}};

}  // namespace

std::string_view to_string(ModelKind v) { return name_of(model_kinds, v); }
std::optional<ModelKind> parse_model_kind(std::string_view t) { return value_of(model_kinds, t); }
std::string_view to_string(DataSource v) { return name_of(data_sources, v); }
std::optional<DataSource> parse_data_source(std::string_view t) { return value_of(data_sources, t); }
std::string_view to_string(LrSchedule v) { return name_of(lr_schedules, v); }
std::optional<LrSchedule> parse_lr_schedule(std::string_view t) { return value_of(lr_schedules, t); }
std::string_view to_string(MixingRule v) { return name_of(mixing_rules, v); }
std::optional<MixingRule> parse_mixing_rule(std::string_view t) { return value_of(mixing_rules, t); }
std::string_view to_string(VarianceTarget v) { return name_of(variance_targets, v); }
std::optional<VarianceTarget> parse_variance_target(std::string_view t) { return value_of(variance_targets, t); }
std::string_view to_string(models::Activation v) { return name_of(activations, v); }
std::optional<models::Activation> parse_activation(std::string_view t) { return value_of(activations, t); }
std::string_view to_string(models::Init v) { return name_of(inits, v); }
std::optional<models::Init> parse_init(std::string_view t) { return value_of(inits, t); }

std::string_view to_string(GossipMode m) {
  switch (m) {
    case GossipMode::push: return "push";
    case GossipMode::pull: return "pull";
    case GossipMode::exchange: return "exchange";
  }
  return "?";
}

std::string_view to_string(StalenessModel m) {
  return m == StalenessModel::users ? "users" : "source";
}

std::optional<GossipMode> parse_gossip_mode(std::string_view s) {
  for (GossipMode m : {GossipMode::push, GossipMode::pull, GossipMode::exchange})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

std::optional<StalenessModel> parse_staleness_model(std::string_view s) {
  for (StalenessModel m : {StalenessModel::users, StalenessModel::source})
    if (to_string(m) == s) return m;
  return std::nullopt;
}

std::string_view to_string(theory::Scaling s) {
  switch (s) {
    case theory::Scaling::constant: return "constant";
    case theory::Scaling::log: return "log";
    case theory::Scaling::linear: return "linear";
  }
  return "?";
}

std::optional<theory::Scaling> parse_scaling(std::string_view text) {
  for (theory::Scaling s : {theory::Scaling::constant, theory::Scaling::log, theory::Scaling::linear})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

}  // namespace timely::sim
