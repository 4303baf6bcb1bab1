// MachineInfo: what a benchmark ran on (CPU model, logical cores, kernel, host name), recorded in
// every ldm-bench JSON so that figures are never separated from their machine.
// Reads /proc/cpuinfo and uname(2); fields it cannot read are "unknown". Thread-safe.
#pragma once

#include "nlohmann/json.hpp"

namespace ldm::bench {

class MachineInfo {
 public:
  // {"cpu", "logical_cores", "kernel", "host"}
  static nlohmann::json Describe();
};

}  // namespace ldm::bench
