#pragma once
// Variance-corrected model averaging (Tian, Al-Ars, Kitsak & Hofstee, arXiv 2404.04616;
// docs/model.md §4). Averaging k uncorrelated models divides each weight tensor's
// variance by k ("vanishing variance", docs/model.md §3.9), which delays the accuracy take-off.
// After averaging, each tensor W is rescaled about its mean so that its variance equals a
// target, the mean variance of the contributing models' tensors:
//     W' = (W - mean W) * sqrt(target / var W) + mean W.
#include <Eigen/Core>
#include <vector>

#include "models/mlp.hpp"

namespace timely::models {

// Which tensors are corrected: weight matrices always, biases only if asked.
struct CorrectionOptions {
  bool biases = false;
  // Below this variance a tensor is left as it is (e.g. identical or all-zero entries):
  // rescaling it would divide by zero or blow up rounding noise.
  double min_variance = 1e-12;
};

// Variance of every tensor of a model (0 for tensors the options exclude), in layout order.
std::vector<double> tensor_variances(const Eigen::Ref<const Eigen::VectorXf>& params, const Layout& layout,
                                     const CorrectionOptions& options = {});
// The same into `out` (resized once), for the event loop, which must not allocate.
void tensor_variances(const Eigen::Ref<const Eigen::VectorXf>& params, const Layout& layout,
                      const CorrectionOptions& options, std::vector<double>& out);

// Rescales each corrected tensor of `params` to the variance targets[k] (layout order; a
// target <= 0 leaves the tensor alone). Tensors whose current variance is below
// options.min_variance are left unchanged, so nothing becomes NaN.
void correct_variance(Eigen::Ref<Eigen::VectorXf> params, const Layout& layout, const std::vector<double>& targets,
                      const CorrectionOptions& options = {});

}  // namespace timely::models
