#include "core/io/model_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/io/json_reader.h"

namespace ldm {

ModelConfig::ModelConfig(nlohmann::json json, std::string source)
    : json_(std::move(json)), source_(std::move(source)) {}

absl::StatusOr<ModelConfig> ModelConfig::FromFile(const std::filesystem::path& path) {
  LDM_ASSIGN_OR_RETURN(nlohmann::json j, ReadJsonFile(path));
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": root is not a JSON object"));
  }
  return ModelConfig(std::move(j), path.string());
}

bool ModelConfig::Has(const std::string& key) const {
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

absl::Status ModelConfig::Invalid(const std::string& key, const std::string& what) const {
  return absl::InvalidArgumentError(absl::StrCat(source_, ": '", key, "' ", what));
}

absl::StatusOr<const nlohmann::json*> ModelConfig::Find(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": required field '", key, "' is missing"));
  }
  return &*it;
}

absl::StatusOr<int64_t> ModelConfig::GetInt(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float() && v->get<double>() == static_cast<double>(static_cast<int64_t>(v->get<double>()))) {
    return static_cast<int64_t>(v->get<double>());
  }
  return Invalid(key, absl::StrCat("must be an integer, got ", v->dump()));
}

absl::StatusOr<int64_t> ModelConfig::GetInt(const std::string& key, int64_t default_value) const {
  if (!Has(key)) return default_value;
  return GetInt(key);
}

absl::StatusOr<double> ModelConfig::GetDouble(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (v->is_number()) return v->get<double>();
  return Invalid(key, absl::StrCat("must be a number, got ", v->dump()));
}

absl::StatusOr<double> ModelConfig::GetDouble(const std::string& key, double default_value) const {
  if (!Has(key)) return default_value;
  return GetDouble(key);
}

absl::StatusOr<bool> ModelConfig::GetBool(const std::string& key, bool default_value) const {
  if (!Has(key)) return default_value;
  const nlohmann::json& v = json_.at(key);
  if (v.is_boolean()) return v.get<bool>();
  return Invalid(key, absl::StrCat("must be true or false, got ", v.dump()));
}

absl::StatusOr<std::string> ModelConfig::GetString(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (v->is_string()) return v->get<std::string>();
  return Invalid(key, absl::StrCat("must be a string, got ", v->dump()));
}

absl::StatusOr<std::string> ModelConfig::GetString(const std::string& key,
                                                   const std::string& default_value) const {
  if (!Has(key)) return default_value;
  return GetString(key);
}

absl::StatusOr<std::optional<int64_t>> ModelConfig::GetOptionalInt(const std::string& key) const {
  if (!Has(key)) return std::optional<int64_t>();
  LDM_ASSIGN_OR_RETURN(int64_t v, GetInt(key));
  return std::optional<int64_t>(v);
}

absl::StatusOr<std::vector<int64_t>> ModelConfig::GetIntList(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (!v->is_array()) return Invalid(key, absl::StrCat("must be a list of integers, got ", v->dump()));
  std::vector<int64_t> out;
  for (const auto& e : *v) {
    if (!e.is_number_integer()) {
      return Invalid(key, absl::StrCat("must be a list of integers, got ", v->dump()));
    }
    out.push_back(e.get<int64_t>());
  }
  return out;
}

absl::StatusOr<std::vector<double>> ModelConfig::GetDoubleList(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (!v->is_array()) return Invalid(key, absl::StrCat("must be a list of numbers, got ", v->dump()));
  std::vector<double> out;
  for (const auto& e : *v) {
    if (!e.is_number()) return Invalid(key, absl::StrCat("must be a list of numbers, got ", v->dump()));
    out.push_back(e.get<double>());
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ModelConfig::GetStringList(const std::string& key) const {
  LDM_ASSIGN_OR_RETURN(const nlohmann::json* v, Find(key));
  if (!v->is_array()) return Invalid(key, absl::StrCat("must be a list of strings, got ", v->dump()));
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string()) return Invalid(key, absl::StrCat("must be a list of strings, got ", v->dump()));
    out.push_back(e.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> ModelConfig::GetIntOrList(const std::string& key, size_t n,
                                                               int64_t default_value) const {
  if (!Has(key)) return std::vector<int64_t>(n, default_value);
  const nlohmann::json& v = json_.at(key);
  if (v.is_number_integer()) return std::vector<int64_t>(n, v.get<int64_t>());
  LDM_ASSIGN_OR_RETURN(std::vector<int64_t> list, GetIntList(key));
  if (list.size() != n) {
    return Invalid(key, absl::StrCat("has ", list.size(), " entries, expected ", n,
                                     " (one per block)"));
  }
  return list;
}

absl::Status ModelConfig::RequireOneOf(const std::string& key,
                                       const std::vector<nlohmann::json>& allowed) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return absl::OkStatus();
  for (const auto& a : allowed) {
    if (*it == a) return absl::OkStatus();
    // 1 and 1.0 compare equal for our purposes.
    if (it->is_number() && a.is_number() && it->get<double>() == a.get<double>()) {
      return absl::OkStatus();
    }
  }
  std::vector<std::string> names;
  names.push_back("null");
  for (const auto& a : allowed) names.push_back(a.dump());
  return absl::UnimplementedError(absl::StrCat(source_, ": '", key, "' = ", it->dump(),
                                               " is not supported by ldm (supported: ",
                                               absl::StrJoin(names, ", "), ")"));
}

}  // namespace ldm
