#pragma once
// Every named choice a scenario offers (topologies, gossip modes, capacity scalings, mixing
// rules, data sources, partitions, ...) lives in one table per kind: the name users type, the
// value it stands for and a one-line description. Parsing, printing, the accepted-values text
// of errors and --help, and the documentation check all read these tables, so a new choice is
// one row (in the spirit of SimGrid's model registries).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.hpp"

namespace timely::sim {

template <class E>
struct Choice {
  E value;
  std::string_view name;
  std::string_view description;
};

template <class E>
struct ChoiceTable {
  std::string_view key;  // the scenario key that takes these names, e.g. "network.topology"
  std::span<const Choice<E>> choices;

  std::string_view name(E value) const {
    for (const auto& c : choices)
      if (c.value == value) return c.name;
    return "?";
  }
  std::optional<E> parse(std::string_view text) const {
    for (const auto& c : choices)
      if (c.name == text) return c.value;
    return std::nullopt;
  }
  // "one of complete, ring, torus" (for errors and --help).
  std::string accepted() const {
    std::string out = "one of ";
    for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + std::string(choices[i].name);
    return out;
  }
};

const ChoiceTable<TopologyKind>& topologies();
const ChoiceTable<ClusterInside>& cluster_insides();
const ChoiceTable<SourceTargets>& source_targets();
const ChoiceTable<GossipMode>& gossip_modes();
const ChoiceTable<GossipPolicyId>& gossip_policies();  // from the registry in sim/gossip_policy.hpp
const ChoiceTable<theory::Scaling>& capacity_scalings();
const ChoiceTable<StalenessModel>& staleness_models();
const ChoiceTable<ModelKind>& model_kinds();
const ChoiceTable<models::Activation>& activations();
const ChoiceTable<models::Init>& initialisations();
const ChoiceTable<DataSource>& data_sources();
const ChoiceTable<RegressionTarget>& regression_targets();
const ChoiceTable<models::PartitionKind>& partitions();
const ChoiceTable<LrSchedule>& lr_schedules();
const ChoiceTable<MixingRule>& mixing_rules();
const ChoiceTable<VarianceTarget>& variance_targets();
const ChoiceTable<BusyPolicy>& busy_policies();
const ChoiceTable<ChurnModel>& churn_models();
const ChoiceTable<LearningProtocolId>& learning_protocols();  // from the registry in sim/protocols.hpp

// Every table, type-erased: for documentation checks and listings.
struct ChoiceListing {
  std::string_view key;
  std::vector<std::pair<std::string_view, std::string_view>> names;  // name, description
};
std::vector<ChoiceListing> all_choices();

}  // namespace timely::sim
