// The caption language of the shapes dataset: composes captions from the facts they should state
// and parses captions back into those facts.
//
// Grammar (square brackets optional, | alternatives, chosen by the generator's rng):
//   caption   := [prefix] objects [" " bg-phrase]
//              | "a " bg " background with " objects            (objects: no prefix here)
//              | [prefix] object " " bg-phrase position          (one object only)
//   prefix    := "a picture of " | "an image of " | "a drawing of "
//   objects   := object-np [position] [" and " object-np [position]]
//   object-np := ("a" | "one") [" " size] " " color " " shape
//   position  := " at the top left" | " at the top" | ... | " in the center" | ...
//   bg-phrase := ("on" | "with" | "against") " a " bg " background";  bg may be spelled "grey"
// Every position phrase follows the object it describes, so Parse attaches it to the most recent
// object. All functions are stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tools/shapes/shapes_rng.h"
#include "tools/shapes/shapes_types.h"

namespace ldm::shapes {

class CaptionGrammar {
 public:
  // A caption stating exactly the facts in `facts` (objects in order; unset optionals are not
  // mentioned), with wording drawn from `rng`.
  static std::string Generate(const ParsedCaption& facts, ShapesRng& rng);
  // The fixed, plain wording of `facts`: "a large red circle at the top left and a small blue
  // square on the right on a black background".
  static std::string Canonical(const ParsedCaption& facts);
  // Recovers the facts a caption states. Case-insensitive; ignores punctuation and filler words.
  // INVALID_ARGUMENT when no object is found, a shape has no color before it, or a position
  // phrase comes before any object.
  static absl::StatusOr<ParsedCaption> Parse(std::string_view caption);
};

}  // namespace ldm::shapes
