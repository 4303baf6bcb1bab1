#include "tools/eval/eval_suite.h"

#include "absl/strings/str_cat.h"
#include "tools/shapes/caption_grammar.h"
#include "tools/shapes/shapes_dataset.h"

namespace ldm::eval {

const char* EvalKindName(EvalKind kind) {
  switch (kind) {
    case EvalKind::kClass:
      return "class";
    case EvalKind::kCaption1:
      return "caption1";
    case EvalKind::kCaption2:
      return "caption2";
    case EvalKind::kMap:
      return "map";
    case EvalKind::kHandMap:
      return "hand_map";
  }
  return "?";
}

std::vector<EvalCondition> EvalSuite::Build(const EvalSuiteOptions& o) {
  shapes::ShapesDatasetOptions dopts;
  dopts.seed = o.seed;
  shapes::ShapesDataset dataset(dopts);
  std::vector<EvalCondition> out;
  if (o.include_classes) {
    for (int c = 0; c < shapes::kNumClasses; ++c) {
      EvalCondition e;
      e.kind = EvalKind::kClass;
      e.name = shapes::ShapesDataset::ClassNames()[c];
      e.class_label = c;
      e.expected.objects.push_back({shapes::ClassShape(c), shapes::ClassColor(c), {}, {}});
      out.push_back(std::move(e));
    }
  }
  // Captions: scan held-out scenes and keep the first of each object count. Only the caption is
  // needed; CaptionCorpus does not render.
  int need1 = o.caption1, need2 = o.caption2;
  const std::vector<std::string> corpus =
      dataset.CaptionCorpus(static_cast<size_t>(20 * (need1 + need2) + 100));
  for (const std::string& caption : corpus) {
    if (need1 == 0 && need2 == 0) break;
    absl::StatusOr<shapes::ParsedCaption> parsed = shapes::CaptionGrammar::Parse(caption);
    if (!parsed.ok()) continue;
    const size_t n = parsed->objects.size();
    if ((n == 1 && need1 == 0) || (n == 2 && need2 == 0) || n > 2) continue;
    EvalCondition e;
    e.kind = n == 1 ? EvalKind::kCaption1 : EvalKind::kCaption2;
    e.name = caption;
    e.prompt = caption;
    e.expected = *parsed;
    out.push_back(std::move(e));
    (n == 1 ? need1 : need2)--;
  }
  auto add_map = [&](EvalKind kind, const shapes::ShapesSample& s, int i) {
    EvalCondition e;
    e.kind = kind;
    e.name = absl::StrCat(EvalKindName(kind), " #", i);
    e.map = LabelMap{s.width, s.height, s.label_map};
    e.truth_map = s.label_map;
    out.push_back(std::move(e));
  };
  for (int i = 0; i < o.maps; ++i) add_map(EvalKind::kMap, dataset.MapSample(i), i);
  for (int i = 0; i < o.hand_maps; ++i)
    add_map(EvalKind::kHandMap, dataset.HandDrawnMapSample(i), i);
  return out;
}

}  // namespace ldm::eval
