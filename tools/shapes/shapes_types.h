// Vocabulary of the procedural "shapes" dataset: the attribute enums, their caption words, and the
// plain structs that describe a scene, a rendered sample and a parsed caption.
//
// Everything here is a value type without hidden state; all functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ldm::shapes {

// Enum values are stable: they define class indices (6 * shape + color) and label-map values
// (color + 1). Do not reorder.
enum class Shape : int { kCircle = 0, kSquare = 1, kTriangle = 2 };
enum class Color : int { kRed = 0, kGreen = 1, kBlue = 2, kYellow = 3, kPurple = 4, kCyan = 5 };
enum class Size : int { kSmall = 0, kLarge = 1 };
// Row-major cells of the 3x3 grid over the canvas.
enum class Position : int {
  kTopLeft = 0,
  kTop = 1,
  kTopRight = 2,
  kLeft = 3,
  kCenter = 4,
  kRight = 5,
  kBottomLeft = 6,
  kBottom = 7,
  kBottomRight = 8,
};
enum class Background : int { kWhite = 0, kGray = 1, kBlack = 2 };

inline constexpr int kNumShapes = 3;
inline constexpr int kNumColors = 6;
inline constexpr int kNumSizes = 2;
inline constexpr int kNumPositions = 9;
inline constexpr int kNumBackgrounds = 3;
inline constexpr int kNumClasses = kNumShapes * kNumColors;  // 18
// Label-map values: 0 is background, 1 + Color for the six colors.
inline constexpr int kNumMapLabels = 1 + kNumColors;  // 7
// All pixel sizes in the dataset are defined on this canvas and scaled by resolution / 64.
inline constexpr int kReferenceResolution = 64;

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// Caption words ("circle", "red", "small", "white") and position phrases ("at the top left").
std::string_view ShapeName(Shape shape);
std::string_view ColorName(Color color);
std::string_view SizeName(Size size);
std::string_view BackgroundName(Background background);
// The short cell name ("top left", "center") and the caption phrase ("at the top left", "in the
// center").
std::string_view PositionName(Position position);
std::string_view PositionPhrase(Position position);

// Base colors of the palette and the (noise-free) background levels.
Rgb ColorRgb(Color color);
Rgb BackgroundRgb(Background background);

// Class index of a single-object image: 6 * shape + color.
inline int ClassIndex(Shape shape, Color color) {
  return kNumColors * static_cast<int>(shape) + static_cast<int>(color);
}
inline Shape ClassShape(int class_index) { return static_cast<Shape>(class_index / kNumColors); }
inline Color ClassColor(int class_index) { return static_cast<Color>(class_index % kNumColors); }
// Label-map value of a color.
inline uint8_t ColorLabel(Color color) { return static_cast<uint8_t>(static_cast<int>(color) + 1); }

// The attributes of one object of a scene to render.
struct ObjectSpec {
  Shape shape = Shape::kCircle;
  Color color = Color::kRed;
  Size size = Size::kSmall;
  Position position = Position::kCenter;
};

// A scene to render: a background and one or two objects. The layout (jittered centres, exact
// sizes), shading and noise are drawn from `seed`, so the same spec and seed always render the
// same image.
struct SceneSpec {
  int resolution = kReferenceResolution;
  Background background = Background::kWhite;
  std::vector<ObjectSpec> objects;
  uint64_t seed = 0;
};

// A placed object of a rendered sample. cx, cy and side are in pixels of the sample's canvas; the
// object's axis-aligned bounding box is [cx - side/2, cx + side/2] in both axes.
struct ShapeObject {
  Shape shape = Shape::kCircle;
  Color color = Color::kRed;
  Size size = Size::kSmall;
  Position position = Position::kCenter;
  int cx = 0, cy = 0, side = 0;
  // Sub-pixel geometry as rendered (cx, cy, side above are these rounded).
  double center_x = 0, center_y = 0, side_px = 0;
  // Which attributes the sample's caption states. Shape and color are always stated.
  bool size_in_caption = false;
  bool position_in_caption = false;
};

// One rendered sample. Images are row-major; rgb is HWC (3 bytes per pixel), label_map is HW with
// values 0..6 (0 background, 1 + Color).
struct ShapesSample {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
  std::vector<uint8_t> label_map;
  // Objects in the order the caption mentions them. Empty for map samples.
  std::vector<ShapeObject> objects;
  std::string caption;
  // 6 * shape + color for single-object images, -1 otherwise (two objects, map samples).
  int class_label = -1;
  Background background = Background::kWhite;
  bool background_in_caption = false;
};

// The facts a caption states, as recovered by CaptionGrammar::Parse.
struct ParsedObject {
  Shape shape = Shape::kCircle;
  Color color = Color::kRed;
  std::optional<Size> size;
  std::optional<Position> position;
};
struct ParsedCaption {
  std::vector<ParsedObject> objects;
  std::optional<Background> background;
};

}  // namespace ldm::shapes
