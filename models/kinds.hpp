#pragma once
// The small enums a scenario names (model.activation, model.init, data.partition), apart
// from the code that uses them, so that sim/scenario.hpp can hold them without including
// the network and data-set headers (and Eigen). Their names ("relu", "iid", ...) are in
// sim/choices.hpp. Depends on nothing.

namespace timely::models {

// Hidden-layer activation of an MLP (models/mlp.hpp).
enum class Activation { relu, tanh };
// Weight initialisation (models/mlp.hpp): Glorot & Bengio's or He's variance.
enum class Init { xavier, he };
// How the training set is dealt out to users (models/partition.hpp).
enum class PartitionKind { iid, dirichlet, shards };

}  // namespace timely::models
