#include "models/variance_correction.hpp"

#include <cmath>

namespace timely::models {

void tensor_variances(const Eigen::Ref<const Eigen::VectorXf>& params, const Layout& layout,
                      const CorrectionOptions& options, std::vector<double>& out) {
  out.resize(layout.tensors().size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    const Tensor& t = layout.tensors()[k];
    out[k] = t.bias && !options.biases ? 0.0 : tensor_variance<float>(params, t);
  }
}

std::vector<double> tensor_variances(const Eigen::Ref<const Eigen::VectorXf>& params, const Layout& layout,
                                     const CorrectionOptions& options) {
  std::vector<double> out;
  tensor_variances(params, layout, options, out);
  return out;
}

void correct_variance(Eigen::Ref<Eigen::VectorXf> params, const Layout& layout, const std::vector<double>& targets,
                      const CorrectionOptions& options) {
  const auto& tensors = layout.tensors();
  for (std::size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    if ((t.bias && !options.biases) || !(targets[k] > 0.0)) continue;
    const double variance = tensor_variance<float>(params, t);
    if (!(variance >= options.min_variance)) continue;
    const double mean = tensor_mean<float>(params, t);
    const double scale = std::sqrt(targets[k] / variance);
    auto segment = params.segment(static_cast<Eigen::Index>(t.offset), static_cast<Eigen::Index>(t.size()));
    // Arithmetic in double, so the corrected variance meets the target to float rounding.
    for (Eigen::Index i = 0; i < segment.size(); ++i)
      segment[i] = static_cast<float>((static_cast<double>(segment[i]) - mean) * scale + mean);
  }
}

}  // namespace timely::models
