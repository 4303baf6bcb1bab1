#include "server/metrics/builder.h"

#include "absl/strings/str_cat.h"

namespace ldm::metrics {

template <typename T>
absl::StatusOr<Family<T>*> Builder<T>::Register(Registry& registry) const {
  if constexpr (std::is_same_v<T, Histogram>) {
    if (!buckets_set_) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram ", options_.name, " needs Buckets(...)"));
    }
  }
  return registry.Register<T>(options_);
}

template class Builder<Counter>;
template class Builder<Gauge>;
template class Builder<Histogram>;

}  // namespace ldm::metrics
