#include "tools/bench/machine_info.h"

#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ldm::bench {

nlohmann::json MachineInfo::Describe() {
  std::string cpu = "unknown";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, "model name")) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        cpu = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
      break;
    }
  }
  std::string kernel = "unknown", host = "unknown";
  utsname u{};
  if (uname(&u) == 0) {
    kernel = absl::StrCat(u.sysname, " ", u.release, " ", u.machine);
    host = u.nodename;
  }
  return {{"cpu", cpu},
          {"logical_cores", std::thread::hardware_concurrency()},
          {"kernel", kernel},
          {"host", host}};
}

}  // namespace ldm::bench
