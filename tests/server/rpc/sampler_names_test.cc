#include "server/rpc/sampler_names.h"

#include <gtest/gtest.h>

namespace ldm::server {
namespace {

TEST(SamplerNamesTest, UnspecifiedMeansTheModelsOwnScheduler) {
  EXPECT_EQ(SamplerName(v1::SAMPLER_UNSPECIFIED), "");
}

TEST(SamplerNamesTest, EveryApiSamplerRoundTripsThroughItsCoreName) {
  for (int s = 1; s <= 7; ++s) {
    std::optional<std::string> name = SamplerName(s);
    ASSERT_TRUE(name.has_value()) << s;
    EXPECT_EQ(SamplerFromName(*name), s) << *name;
  }
  EXPECT_EQ(SamplerName(v1::EULER_ANCESTRAL), "euler_ancestral");
  EXPECT_EQ(SamplerName(v1::DPMPP_2M_KARRAS), "dpmpp_2m_karras");
}

TEST(SamplerNamesTest, UndefinedValuesAreRejected) {
  EXPECT_FALSE(SamplerName(99).has_value());
  EXPECT_EQ(SamplerFromName("lms"), v1::SAMPLER_UNSPECIFIED);
}

}  // namespace
}  // namespace ldm::server
