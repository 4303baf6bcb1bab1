#include "tools/shapes/shapes_dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "tools/shapes/caption_grammar.h"

namespace ldm::shapes {
namespace {

TEST(ShapesDatasetTest, SameSeedAndIndexGiveSameSampleInAnyOrder) {
  const ShapesDataset a({.seed = 7});
  const ShapesDataset b({.seed = 7});
  // Different call orders and interleavings must not matter.
  std::vector<ShapesSample> forward;
  for (uint64_t i = 0; i < 20; ++i) forward.push_back(a.Sample(i));
  (void)b.MapSample(3);
  for (int i = 19; i >= 0; --i) {
    const ShapesSample s = b.Sample(static_cast<uint64_t>(i));
    EXPECT_EQ(s.rgb, forward[i].rgb) << i;
    EXPECT_EQ(s.label_map, forward[i].label_map) << i;
    EXPECT_EQ(s.caption, forward[i].caption) << i;
  }
  EXPECT_EQ(a.MapSample(5).rgb, b.MapSample(5).rgb);
  EXPECT_EQ(a.HandDrawnMapSample(5).rgb, b.HandDrawnMapSample(5).rgb);
  const ShapesDataset other({.seed = 8});
  int differing = 0;
  for (uint64_t i = 0; i < 20; ++i) differing += other.Sample(i).caption != forward[i].caption;
  EXPECT_GT(differing, 10);
}

TEST(ShapesDatasetTest, GoldenValuesDoNotDrift) {
  // Guards the exact stream: a change here changes every trained model's data. (Pixels go
  // through libm sin/cos, so another platform could differ by one level on rare edge pixels.)
  const ShapesSample s = ShapesDataset({.seed = 0}).Sample(0);
  uint64_t hash = 1469598103934665603ULL;
  for (uint8_t v : s.rgb) hash = (hash ^ v) * 1099511628211ULL;
  EXPECT_EQ(s.caption, "a small cyan circle and a large purple square against a gray background");
  EXPECT_EQ(hash, 10170652935050937129ULL);
}

TEST(ShapesDatasetTest, CoversEveryAttribute) {
  const ShapesDataset dataset({.seed = 1});
  std::set<int> classes, positions, sizes, backgrounds, counts;
  for (uint64_t i = 0; i < 600; ++i) {
    const ShapesSample s = dataset.Sample(i);
    if (s.class_label >= 0) classes.insert(s.class_label);
    for (const ShapeObject& o : s.objects) {
      positions.insert(static_cast<int>(o.position));
      sizes.insert(static_cast<int>(o.size));
    }
    backgrounds.insert(static_cast<int>(s.background));
    counts.insert(static_cast<int>(s.objects.size()));
  }
  EXPECT_EQ(classes.size(), 18u);
  EXPECT_EQ(positions.size(), 9u);
  EXPECT_EQ(sizes.size(), 2u);
  EXPECT_EQ(backgrounds.size(), 3u);
  EXPECT_EQ(counts, (std::set<int>{1, 2}));
}

TEST(ShapesDatasetTest, ObjectsInsideCanvasInTheirCellAndApart) {
  for (int resolution : {64, 128}) {
    const ShapesDataset dataset({.seed = 2, .resolution = resolution});
    const double scale = resolution / 64.0;
    for (uint64_t i = 0; i < 400; ++i) {
      const ShapesSample s = dataset.Sample(i);
      ASSERT_EQ(s.width, resolution);
      ASSERT_EQ(s.rgb.size(), static_cast<size_t>(resolution * resolution * 3));
      ASSERT_TRUE(s.objects.size() == 1 || s.objects.size() == 2);
      for (const ShapeObject& o : s.objects) {
        const double h = 0.5 * o.side_px;
        EXPECT_GE(o.center_x - h, 0.0);
        EXPECT_GE(o.center_y - h, 0.0);
        EXPECT_LE(o.center_x + h, resolution);
        EXPECT_LE(o.center_y + h, resolution);
        const double side64 = o.side_px / scale;
        if (o.size == Size::kSmall) {
          EXPECT_TRUE(side64 >= 14 && side64 <= 18) << side64;
        } else {
          EXPECT_TRUE(side64 >= 28 && side64 <= 36) << side64;
        }
        const int col = static_cast<int>(o.center_x * 3 / resolution);
        const int row = static_cast<int>(o.center_y * 3 / resolution);
        EXPECT_EQ(3 * row + col, static_cast<int>(o.position)) << s.caption;
      }
      if (s.objects.size() == 2) {
        const ShapeObject& a = s.objects[0];
        const ShapeObject& b = s.objects[1];
        EXPECT_NE(a.position, b.position);
        const double need = 0.5 * (a.side_px + b.side_px) + 2 * scale - 1e-9;
        EXPECT_TRUE(std::abs(a.center_x - b.center_x) >= need ||
                    std::abs(a.center_y - b.center_y) >= need)
            << s.caption;
        EXPECT_EQ(s.class_label, -1);
      } else {
        EXPECT_EQ(s.class_label, ClassIndex(s.objects[0].shape, s.objects[0].color));
      }
    }
  }
}

TEST(ShapesDatasetTest, SameSceneAtEveryResolution) {
  const ShapesDataset low({.seed = 3, .resolution = 64});
  const ShapesDataset high({.seed = 3, .resolution = 256});
  for (uint64_t i = 0; i < 20; ++i) {
    const ShapesSample a = low.Sample(i), b = high.Sample(i);
    EXPECT_EQ(a.caption, b.caption);
    ASSERT_EQ(a.objects.size(), b.objects.size());
    for (size_t k = 0; k < a.objects.size(); ++k) {
      EXPECT_NEAR(a.objects[k].center_x * 4, b.objects[k].center_x, 1e-9);
      EXPECT_NEAR(a.objects[k].side_px * 4, b.objects[k].side_px, 1e-9);
    }
  }
}

TEST(ShapesDatasetTest, CaptionsStateOnlyTrueFacts) {
  const ShapesDataset dataset({.seed = 4});
  int with_size = 0, with_position = 0, with_background = 0;
  const std::vector<std::string> corpus = dataset.CaptionCorpus(300);
  for (uint64_t i = 0; i < 300; ++i) {
    const ShapesSample s = dataset.Sample(i);
    EXPECT_EQ(corpus[i], s.caption);
    absl::StatusOr<ParsedCaption> parsed = CaptionGrammar::Parse(s.caption);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->objects.size(), s.objects.size()) << s.caption;
    for (size_t k = 0; k < s.objects.size(); ++k) {
      const ParsedObject& p = parsed->objects[k];
      const ShapeObject& o = s.objects[k];
      EXPECT_EQ(p.shape, o.shape) << s.caption;
      EXPECT_EQ(p.color, o.color) << s.caption;
      EXPECT_EQ(p.size.has_value(), o.size_in_caption) << s.caption;
      if (p.size) {
        EXPECT_EQ(*p.size, o.size) << s.caption;
      }
      EXPECT_EQ(p.position.has_value(), o.position_in_caption) << s.caption;
      if (p.position) {
        EXPECT_EQ(*p.position, o.position) << s.caption;
      }
      with_size += p.size.has_value();
      with_position += p.position.has_value();
    }
    EXPECT_EQ(parsed->background.has_value(), s.background_in_caption) << s.caption;
    if (parsed->background) {
      EXPECT_EQ(*parsed->background, s.background) << s.caption;
    }
    with_background += parsed->background.has_value();
  }
  EXPECT_GT(with_size, 50);
  EXPECT_GT(with_position, 50);
  EXPECT_GT(with_background, 50);
}

// The label of each pixel must match its visible color: away from edges, labeled pixels are
// close to the (shaded) palette color and background pixels close to the background level.
// Pixels whose four neighbours share their label can still be partly covered (a diagonal edge
// passing a corner, thin polygon spikes, stroke ends), so `min_agreement` of them must pass.
void ExpectLabelMapAgreesWithColors(const ShapesSample& s, double min_agreement = 0.995) {
  ASSERT_EQ(s.label_map.size(), static_cast<size_t>(s.width * s.height));
  const Rgb bg = BackgroundRgb(s.background);
  int checked = 0, agreeing = 0;
  for (int y = 1; y + 1 < s.height; ++y) {
    for (int x = 1; x + 1 < s.width; ++x) {
      const size_t p = static_cast<size_t>(y) * s.width + x;
      const uint8_t l = s.label_map[p];
      ASSERT_LT(l, kNumMapLabels);
      // Interior pixels only: all 4 neighbours share the label.
      if (s.label_map[p - 1] != l || s.label_map[p + 1] != l || s.label_map[p - s.width] != l ||
          s.label_map[p + s.width] != l) {
        continue;
      }
      const uint8_t* px = &s.rgb[3 * p];
      bool ok = true;
      if (l == 0) {
        ok = std::abs(px[0] - bg.r) <= 7 && std::abs(px[1] - bg.g) <= 7 &&
             std::abs(px[2] - bg.b) <= 7;
      } else {
        const Rgb c = ColorRgb(static_cast<Color>(l - 1));
        for (int ch = 0; ch < 3; ++ch) {
          const double base = ch == 0 ? c.r : ch == 1 ? c.g : c.b;
          ok = ok && px[ch] >= std::floor(base * 0.85) - 7 &&
               px[ch] <= std::min(255.0, std::ceil(base * 1.15) + 7);
        }
      }
      agreeing += ok;
      ++checked;
    }
  }
  EXPECT_GT(checked, s.width * s.height / 2);
  EXPECT_GE(agreeing, min_agreement * checked) << checked - agreeing << " of " << checked;
}

TEST(ShapesDatasetTest, LabelMapsAgreeWithRenderedColors) {
  const ShapesDataset dataset({.seed = 5});
  for (uint64_t i = 0; i < 40; ++i) {
    const ShapesSample s = dataset.Sample(i);
    ExpectLabelMapAgreesWithColors(s);
    // Every object's color appears in the map with about the object's area.
    for (const ShapeObject& o : s.objects) {
      const int n =
          static_cast<int>(std::count(s.label_map.begin(), s.label_map.end(), ColorLabel(o.color)));
      const double area = o.side_px * o.side_px *
                          (o.shape == Shape::kSquare   ? 1.0
                           : o.shape == Shape::kCircle ? M_PI / 4
                                                       : 0.5);
      bool shared = s.objects.size() == 2 && s.objects[0].color == s.objects[1].color;
      if (!shared) {
        EXPECT_NEAR(n, area, 0.12 * area + 6) << s.caption;
      }
    }
    ExpectLabelMapAgreesWithColors(dataset.MapSample(i), 0.99);
    ExpectLabelMapAgreesWithColors(dataset.HandDrawnMapSample(i), 0.99);
  }
}

TEST(ShapesDatasetTest, MapSamplesHaveVariedRegions) {
  const ShapesDataset dataset({.seed = 6});
  std::set<int> labels;
  int multi_label = 0;
  for (uint64_t i = 0; i < 50; ++i) {
    const ShapesSample s = dataset.MapSample(i);
    EXPECT_TRUE(s.objects.empty());
    EXPECT_EQ(s.class_label, -1);
    std::set<int> here(s.label_map.begin(), s.label_map.end());
    labels.insert(here.begin(), here.end());
    multi_label += here.size() > 2;
  }
  EXPECT_EQ(labels.size(), 7u);
  EXPECT_GT(multi_label, 5);
  // The hand-drawn stream is not the training stream.
  EXPECT_NE(dataset.MapSample(0).label_map, dataset.HandDrawnMapSample(0).label_map);
}

TEST(ShapesDatasetTest, RenderFollowsSpecAndRejectsImpossibleScenes) {
  const ShapesDataset dataset;
  SceneSpec spec;
  spec.resolution = 128;
  spec.background = Background::kBlack;
  spec.objects = {{Shape::kTriangle, Color::kYellow, Size::kLarge, Position::kTopLeft},
                  {Shape::kCircle, Color::kBlue, Size::kSmall, Position::kBottomRight}};
  spec.seed = 11;
  absl::StatusOr<ShapesSample> s = dataset.Render(spec);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->width, 128);
  EXPECT_EQ(
      s->caption,
      "a large yellow triangle at the top left and a small blue circle at the bottom right on "
      "a black background");
  EXPECT_EQ(s->caption, ShapesDataset::CaptionFor(spec));
  ASSERT_EQ(s->objects.size(), 2u);
  EXPECT_EQ(s->objects[0].position, Position::kTopLeft);
  EXPECT_EQ(dataset.Render(spec)->rgb, s->rgb);

  SceneSpec two_large = spec;
  two_large.objects[1].size = Size::kLarge;
  two_large.objects[1].position = Position::kTop;  // adjacent cells: no room for two large
  EXPECT_EQ(dataset.Render(two_large).status().code(), absl::StatusCode::kInvalidArgument);
  SceneSpec same_cell = spec;
  same_cell.objects[1].position = Position::kTopLeft;
  EXPECT_EQ(dataset.Render(same_cell).status().code(), absl::StatusCode::kInvalidArgument);
  SceneSpec empty = spec;
  empty.objects.clear();
  EXPECT_FALSE(dataset.Render(empty).ok());
  SceneSpec tiny = spec;
  tiny.resolution = 4;
  EXPECT_FALSE(dataset.Render(tiny).ok());
}

TEST(ShapesDatasetTest, RenderMapPaintsGivenLabels) {
  const ShapesDataset dataset;
  std::vector<uint8_t> map(32 * 32, 0);
  for (int y = 8; y < 24; ++y) {
    for (int x = 4; x < 12; ++x) map[y * 32 + x] = 3;
  }
  absl::StatusOr<ShapesSample> s = dataset.RenderMap(map, 32, 32, Background::kWhite, 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->label_map, map);
  ExpectLabelMapAgreesWithColors(*s);
  EXPECT_FALSE(dataset.RenderMap(map, 16, 16, Background::kWhite, 1).ok());
  map[0] = 9;
  EXPECT_FALSE(dataset.RenderMap(map, 32, 32, Background::kWhite, 1).ok());
}

TEST(ShapesDatasetTest, ClassNames) {
  const auto& names = ShapesDataset::ClassNames();
  ASSERT_EQ(names.size(), 18u);
  EXPECT_EQ(names[0], "red circle");
  EXPECT_EQ(names[5], "cyan circle");
  EXPECT_EQ(names[6], "red square");
  EXPECT_EQ(names[ClassIndex(Shape::kTriangle, Color::kPurple)], "purple triangle");
  EXPECT_EQ(names[17], "cyan triangle");
}

// The 64x64 renders the shipped toy-shapes model was trained on must not change when the dataset
// grows other resolutions (super-resolution renders at 128 and 256): a fingerprint of the first
// scene and map samples at the default options.
TEST(ShapesDatasetTest, The64PixelTrainingRendersAreBitIdentical) {
  const ShapesDataset dataset({.seed = 0});
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](const std::vector<uint8_t>& bytes) {
    for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  };
  for (uint64_t i = 0; i < 8; ++i) {
    const ShapesSample s = dataset.Sample(i), m = dataset.MapSample(i);
    ASSERT_EQ(s.width, 64);
    mix(s.rgb);
    mix(s.label_map);
    mix(m.rgb);
    mix(m.label_map);
  }
  EXPECT_EQ(h, 5659962509064014097ull) << "fingerprint " << h;
}

}  // namespace
}  // namespace ldm::shapes
