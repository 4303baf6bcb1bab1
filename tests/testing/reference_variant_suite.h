// A test suite over the fixture variants of a conformance test: the variants are loaded once per
// suite (SetUpTestSuite of the derived class calls Load), every test fails with the load error
// when loading failed, and Get reads a reference tensor of a variant.
//
// Variant is the test's own struct of what it loaded per variant; it must have a member
// `std::shared_ptr<const SafeTensorsFile> ref` (the diffusers reference file). Not thread-safe
// (gtest runs a suite's tests on one thread).
#pragma once

#include <gtest/gtest.h>
#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ldm::testing {

template <typename Variant>
class ReferenceVariantSuite : public ::testing::Test {
 protected:
  static void Load(absl::StatusOr<std::vector<Variant>> loaded) {
    status_ = std::make_unique<absl::Status>(loaded.status());
    if (loaded.ok()) variants_ = std::make_unique<std::vector<Variant>>(*std::move(loaded));
  }
  static void TearDownTestSuite() {
    variants_.reset();
    status_.reset();
  }
  void SetUp() override {
    ASSERT_NE(status_, nullptr) << "SetUpTestSuite did not call Load";
    ASSERT_TRUE(status_->ok()) << *status_;
  }

  static std::vector<Variant>& variants() { return *variants_; }

  static torch::Tensor Get(const Variant& d, const std::string& name) {
    auto t = d.ref->Get(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : torch::Tensor();
  }

 private:
  static inline std::unique_ptr<std::vector<Variant>> variants_;
  static inline std::unique_ptr<absl::Status> status_;
};

}  // namespace ldm::testing
