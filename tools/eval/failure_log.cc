#include "tools/eval/failure_log.h"

#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/common/status_macros.h"
#include "core/io/png_codec.h"

namespace ldm::eval {
namespace {

constexpr char kTsv[] = "failures.tsv";

}  // namespace

absl::StatusOr<FailureLog> FailureLog::Open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  std::ofstream tsv(dir / kTsv, std::ios::trunc);
  tsv << "file\tkind\tguidance\tcondition\tasked\tfound\tmissed\n";
  if (!tsv) return absl::InternalError(absl::StrCat("cannot write ", (dir / kTsv).string()));
  return FailureLog(dir);
}

std::string FailureLog::Describe(const shapes::ImageAnalysis& analysis) {
  if (analysis.objects.empty()) return "nothing";
  std::vector<std::string> parts;
  for (const shapes::DetectedObject& o : analysis.objects) {
    parts.push_back(absl::StrFormat("%s %s %s at %s [%d-%d x %d-%d]", shapes::SizeName(o.size),
                                    shapes::ColorName(o.color), shapes::ShapeName(o.shape),
                                    shapes::PositionName(o.position), o.min_x, o.max_x, o.min_y,
                                    o.max_y));
  }
  return absl::StrJoin(parts, "; ");
}

std::string FailureLog::Missed(const shapes::CaptionCheck& check) {
  std::vector<std::string> missed;
  if (!check.count_correct) missed.push_back("count");
  if (check.color_correct < check.objects) missed.push_back("color");
  if (check.shape_correct < check.objects) missed.push_back("shape");
  if (check.size_correct < check.size_stated) missed.push_back("size");
  if (check.position_correct < check.position_stated) missed.push_back("position");
  if (check.background_stated && !check.background_correct) missed.push_back("background");
  return absl::StrJoin(missed, ",");
}

absl::StatusOr<bool> FailureLog::Record(const EvalCondition& condition, size_t condition_index,
                                        double guidance, int image_index, const Image8& image,
                                        const SceneFindings& findings) {
  if (condition.kind == EvalKind::kMap || condition.kind == EvalKind::kHandMap) return false;
  if (findings.check.all_correct) return false;
  const std::string file = absl::StrFormat("%s-w%g-c%d-i%d.png", EvalKindName(condition.kind),
                                           guidance, condition_index, image_index);
  LDM_ASSIGN_OR_RETURN(std::string png, EncodePng(image));
  std::ofstream png_file(dir_ / file, std::ios::binary);
  png_file << png;
  if (!png_file) return absl::InternalError(absl::StrCat("cannot write ", (dir_ / file).string()));
  std::ofstream tsv(dir_ / kTsv, std::ios::app);
  tsv << file << '\t' << EvalKindName(condition.kind) << '\t' << guidance << '\t' << condition_index
      << '\t' << (condition.prompt.empty() ? condition.name : condition.prompt) << '\t'
      << Describe(findings.analysis) << '\t' << Missed(findings.check) << '\n';
  if (!tsv) return absl::InternalError(absl::StrCat("cannot append to ", (dir_ / kTsv).string()));
  ++recorded_;
  return true;
}

}  // namespace ldm::eval
