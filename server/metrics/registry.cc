#include "server/metrics/registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/metrics/text_format.h"

namespace ldm::metrics {
namespace {

// The series names a family puts on the wire; two families must not share any of them, or a
// scraper would see one family's samples inside another.
std::vector<std::string> ExportedNames(MetricType type, const std::string& name) {
  if (type == MetricType::kHistogram) {
    return {name, absl::StrCat(name, "_bucket"), absl::StrCat(name, "_sum"),
            absl::StrCat(name, "_count")};
  }
  return {name};
}

bool SameOptions(const FamilyOptions& a, const FamilyOptions& b) {
  return a.help == b.help && a.constant_labels == b.constant_labels && a.buckets == b.buckets;
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename T>
absl::StatusOr<Family<T>*> Registry::Register(FamilyOptions options) {
  constexpr MetricType kType = Family<T>::kType;
  // Validate before locking: Create only looks at `options`.
  absl::StatusOr<std::unique_ptr<Family<T>>> created = Family<T>::Create(std::move(options));
  if (!created.ok()) return created.status();
  std::unique_ptr<Family<T>> family = *std::move(created);

  absl::MutexLock lock(&mu_);
  const std::vector<std::string> new_names = ExportedNames(kType, family->name());
  for (Entry& entry : families_) {
    if (entry.options->name == family->name()) {
      if (entry.type != kType) {
        return absl::InvalidArgumentError(
            absl::StrCat("metric ", family->name(), " is already registered as a ",
                         MetricTypeName(entry.type), ", not a ", MetricTypeName(kType)));
      }
      if (!SameOptions(*entry.options, family->options())) {
        return absl::AlreadyExistsError(
            absl::StrCat("metric ", family->name(),
                         " is already registered with different help, constant labels or buckets"));
      }
      // Same declaration: share the family. The static_cast is safe because the type matched.
      return static_cast<Family<T>*>(entry.family.get());
    }
    for (const std::string& existing : ExportedNames(entry.type, entry.options->name)) {
      for (const std::string& wanted : new_names) {
        if (existing == wanted) {
          return absl::InvalidArgumentError(
              absl::StrCat("metric ", family->name(), " (", MetricTypeName(kType),
                           ") would export series ", wanted, ", which ", MetricTypeName(entry.type),
                           " ", entry.options->name, " already exports"));
        }
      }
    }
  }
  Family<T>* raw = family.get();
  families_.push_back(Entry{kType, std::move(family), &raw->options()});
  return raw;
}

template absl::StatusOr<Family<Counter>*> Registry::Register<Counter>(FamilyOptions);
template absl::StatusOr<Family<Gauge>*> Registry::Register<Gauge>(FamilyOptions);
template absl::StatusOr<Family<Histogram>*> Registry::Register<Histogram>(FamilyOptions);

std::vector<MetricFamilySnapshot> Registry::Collect() const {
  std::vector<MetricFamilySnapshot> snapshots;
  absl::ReaderMutexLock lock(&mu_);
  snapshots.reserve(families_.size());
  for (const Entry& entry : families_) snapshots.push_back(entry.family->Collect());
  return snapshots;
}

std::string Registry::Serialize() const { return SerializeTextFormat(Collect()); }

}  // namespace ldm::metrics
