#include "tools/shapes/shapes_types.h"

#include <array>

namespace ldm::shapes {
namespace {

template <typename E, size_t N>
std::string_view Lookup(const std::array<std::string_view, N>& names, E value) {
  const auto index = static_cast<size_t>(value);
  return index < N ? names[index] : std::string_view("?");
}

constexpr std::array<std::string_view, kNumShapes> kShapeNames = {"circle", "square", "triangle"};
constexpr std::array<std::string_view, kNumColors> kColorNames = {"red",    "green",  "blue",
                                                                  "yellow", "purple", "cyan"};
constexpr std::array<std::string_view, kNumSizes> kSizeNames = {"small", "large"};
constexpr std::array<std::string_view, kNumBackgrounds> kBackgroundNames = {"white", "gray",
                                                                            "black"};
constexpr std::array<std::string_view, kNumPositions> kPositionNames = {
    "top left", "top",         "top right", "left",        "center",
    "right",    "bottom left", "bottom",    "bottom right"};
constexpr std::array<std::string_view, kNumPositions> kPositionPhrases = {
    "at the top left",    "at the top",    "at the top right",
    "on the left",        "in the center", "on the right",
    "at the bottom left", "at the bottom", "at the bottom right"};

constexpr std::array<Rgb, kNumColors> kColorRgb = {
    {{230, 40, 40}, {40, 170, 60}, {40, 80, 220}, {240, 210, 40}, {150, 60, 200}, {30, 200, 210}}};
constexpr std::array<Rgb, kNumBackgrounds> kBackgroundRgb = {
    {{240, 240, 240}, {128, 128, 128}, {25, 25, 25}}};

}  // namespace

std::string_view ShapeName(Shape shape) { return Lookup(kShapeNames, shape); }
std::string_view ColorName(Color color) { return Lookup(kColorNames, color); }
std::string_view SizeName(Size size) { return Lookup(kSizeNames, size); }
std::string_view BackgroundName(Background background) {
  return Lookup(kBackgroundNames, background);
}
std::string_view PositionName(Position position) { return Lookup(kPositionNames, position); }
std::string_view PositionPhrase(Position position) { return Lookup(kPositionPhrases, position); }

Rgb ColorRgb(Color color) {
  const auto index = static_cast<size_t>(color);
  return index < kColorRgb.size() ? kColorRgb[index] : Rgb{};
}
Rgb BackgroundRgb(Background background) {
  const auto index = static_cast<size_t>(background);
  return index < kBackgroundRgb.size() ? kBackgroundRgb[index] : Rgb{};
}

}  // namespace ldm::shapes
