// Random region layouts for semantic-map samples: the labeled regions that a "map sample" renders.
//
// Two families, drawn from disjoint random streams by the caller:
//  - Training maps: 1-4 regions mixing the dataset's three shapes with arbitrary outlines (smooth
//    random blobs, random star-like polygons, thick polylines), so a model conditioned on maps
//    does not only know circles, squares and triangles.
//  - Hand-drawn-like maps (held out for evaluation): 1-3 regions that imitate a user with a mouse:
//    wobbly outlines of rough circles, boxes and triangles, and scribbled strokes with jittery,
//    smoothed paths.
// Layouts are drawn in the 64-pixel reference frame and scaled to `resolution`, so the same rng
// state gives the same picture at every resolution. Stateless; thread-safe.
#pragma once

#include <vector>

#include "tools/shapes/scene_rasterizer.h"
#include "tools/shapes/shapes_rng.h"

namespace ldm::shapes {

class SemanticMapGenerator {
 public:
  static std::vector<Region> TrainingRegions(ShapesRng& rng, int resolution,
                                             double shading_amplitude);
  static std::vector<Region> HandDrawnRegions(ShapesRng& rng, int resolution,
                                              double shading_amplitude);
};

}  // namespace ldm::shapes
