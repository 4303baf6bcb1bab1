// Typed, validating access to one component's config.json (diffusers / transformers layout).
//
// Every getter names the config file and the field in its error, so a user loading a model folder
// learns exactly which setting is wrong. Fields that are absent or JSON null take the given
// default. RequireDefault() is how modules reject settings they do not implement instead of
// silently ignoring them.
// Thread safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace ldm {

class ModelConfig {
 public:
  ModelConfig() = default;
  // `source` names the config in error messages, e.g. "models/sd/unet/config.json".
  ModelConfig(nlohmann::json json, std::string source);

  // Reads a config file with ReadJsonFile(); the root must be a JSON object.
  static absl::StatusOr<ModelConfig> FromFile(const std::filesystem::path& path);

  const nlohmann::json& json() const { return json_; }
  const std::string& source() const { return source_; }

  // True when `key` is present and not null.
  bool Has(const std::string& key) const;

  absl::StatusOr<int64_t> GetInt(const std::string& key) const;
  absl::StatusOr<int64_t> GetInt(const std::string& key, int64_t default_value) const;
  absl::StatusOr<double> GetDouble(const std::string& key) const;
  absl::StatusOr<double> GetDouble(const std::string& key, double default_value) const;
  absl::StatusOr<bool> GetBool(const std::string& key, bool default_value) const;
  absl::StatusOr<std::string> GetString(const std::string& key) const;
  absl::StatusOr<std::string> GetString(const std::string& key,
                                        const std::string& default_value) const;
  absl::StatusOr<std::optional<int64_t>> GetOptionalInt(const std::string& key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntList(const std::string& key) const;
  absl::StatusOr<std::vector<std::string>> GetStringList(const std::string& key) const;
  absl::StatusOr<std::vector<double>> GetDoubleList(const std::string& key) const;
  // An int broadcast to `n` entries, or a list that must have exactly `n` entries. Absent/null
  // gives `default_value` broadcast.
  absl::StatusOr<std::vector<int64_t>> GetIntOrList(const std::string& key, size_t n,
                                                    int64_t default_value) const;

  // OK when `key` is absent, null, or equal to one of `allowed`; otherwise UNIMPLEMENTED naming
  // the field, its value and what ldm supports.
  absl::Status RequireOneOf(const std::string& key,
                            const std::vector<nlohmann::json>& allowed) const;

  // INVALID_ARGUMENT "<source>: <key> <what>" for callers that validate values themselves.
  absl::Status Invalid(const std::string& key, const std::string& what) const;

 private:
  absl::StatusOr<const nlohmann::json*> Find(const std::string& key) const;

  nlohmann::json json_ = nlohmann::json::object();
  std::string source_;
};

}  // namespace ldm
