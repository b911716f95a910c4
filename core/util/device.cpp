// SPDX-License-Identifier: MIT
#include "core/util/device.h"

#include <thread>

#include "core/util/error.h"

namespace attn {

torch::Device resolve_device(const std::string& name, std::vector<std::string>* warnings) {
  if (name.empty() || name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) {
      if (warnings) {
        warnings->push_back("CUDA was asked for but no usable GPU was found (or this LibTorch "
                            "has no CUDA): running on the CPU");
      }
      return torch::Device(torch::kCPU);
    }
    try {
      return torch::Device(name);
    } catch (const c10::Error&) {
      throw ConfigError("device \"" + name + "\" is not valid: use cpu, cuda or cuda:N");
    }
  }
  throw ConfigError("device \"" + name + "\" is not valid: use cpu or cuda");
}

torch::Dtype resolve_precision(const std::string& name, const std::string& asked_device,
                               const torch::Device& device, std::vector<std::string>* warnings) {
  if (name.empty() || name == "float32") return torch::kFloat32;
  if (name != "bfloat16" && name != "float16") {
    throw ConfigError("precision \"" + name + "\" is unknown: use float32, bfloat16 or float16");
  }
  if (device.is_cuda()) return name == "bfloat16" ? torch::kBFloat16 : torch::kFloat16;
  if (asked_device.rfind("cuda", 0) != 0) {
    throw ConfigError("precision " + name + " runs on CUDA only: choose the cuda device, or "
                      "float32 on the CPU");
  }
  // The device fell back to the CPU (resolve_device noted it): so does the precision.
  if (warnings) {
    warnings->push_back("precision " + name + " was asked for, but it runs on CUDA only and the "
                        "model runs on the CPU: running in float32");
  }
  return torch::kFloat32;
}

std::string precision_name(torch::Dtype dtype) {
  if (dtype == torch::kFloat32) return "float32";
  if (dtype == torch::kBFloat16) return "bfloat16";
  if (dtype == torch::kFloat16) return "float16";
  return c10::toString(dtype);
}

void init_torch_threads(int threads) {
  static const bool done = [threads] {
    const unsigned n = threads > 0 ? unsigned(threads) : std::thread::hardware_concurrency();
    if (n > 0) torch::set_num_threads(int(n));
    return true;
  }();
  (void)done;
}

}  // namespace attn
