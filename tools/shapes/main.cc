// ldm-shapes: writes samples of the shapes dataset for inspection, and learns its tokenizer.
//
//   ldm-shapes --out DIR [--count N] [--seed S] [--resolution R] [--kind scene|map|hand]
//              [--tokenizer DIR --corpus N --merges M --max-length L]
//
// For each sample i it writes DIR/NNNNNN.png (image), DIR/NNNNNN_map.png (label map scaled to
// gray levels 0, 36, ..., 216 for viewing), DIR/NNNNNN_labels.png (gray value = label index: what
// GenerateRequest.semantic_map.png and `ldm-client --semantic-map` take) and appends "NNNNNN<TAB>caption" to DIR/captions.tsv.
#include <png.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tools/shapes/clip_bpe_trainer.h"
#include "tools/shapes/shapes_dataset.h"

namespace {

// Writes an 8-bit PNG (channels 1 or 3). Returns false on failure.
bool WritePng(const std::string& path, const uint8_t* pixels, int width, int height, int channels) {
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  if (png == nullptr || info == nullptr) {
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {  // libpng reports errors by longjmp
    png_destroy_write_struct(&png, &info);
    std::fclose(file);
    return false;
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    png_write_row(png, pixels + static_cast<size_t>(y) * width * channels);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::fclose(file) == 0;
}

int Usage() {
  std::cerr << "usage: ldm-shapes --out DIR [--count N] [--seed S] [--resolution R]\n"
               "                  [--kind scene|map|hand]\n"
               "       ldm-shapes --tokenizer DIR [--corpus N] [--merges M] [--max-length L]"
               " [--seed S]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, tokenizer_dir, kind = "scene";
  long count = 16, corpus = 20000, merges = 800, max_length = 32;
  ldm::shapes::ShapesDatasetOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    const std::string value = argv[++i];
    if (arg == "--out") {
      out = value;
    } else if (arg == "--count") {
      count = std::atol(value.c_str());
    } else if (arg == "--seed") {
      options.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--resolution") {
      options.resolution = std::atoi(value.c_str());
    } else if (arg == "--kind") {
      kind = value;
    } else if (arg == "--tokenizer") {
      tokenizer_dir = value;
    } else if (arg == "--corpus") {
      corpus = std::atol(value.c_str());
    } else if (arg == "--merges") {
      merges = std::atol(value.c_str());
    } else if (arg == "--max-length") {
      max_length = std::atol(value.c_str());
    } else {
      return Usage();
    }
  }
  if (out.empty() && tokenizer_dir.empty()) return Usage();
  if (kind != "scene" && kind != "map" && kind != "hand") return Usage();
  const ldm::shapes::ShapesDataset dataset(options);

  if (!tokenizer_dir.empty()) {
    ldm::shapes::ClipBpeTrainer trainer(
        {static_cast<int>(merges), 1, static_cast<int>(max_length)});
    trainer.AddTexts(dataset.CaptionCorpus(static_cast<size_t>(corpus)));
    trainer.Train();
    if (absl::Status s = trainer.WriteTokenizerDir(tokenizer_dir); !s.ok()) {
      std::cerr << s << "\n";
      return 1;
    }
    std::cout << "wrote " << tokenizer_dir << " (" << trainer.merges().size() << " merges, "
              << trainer.Vocabulary().size() << " tokens)\n";
  }
  if (out.empty()) return 0;

  std::filesystem::create_directories(out);
  std::ofstream captions(std::filesystem::path(out) / "captions.tsv");
  for (long i = 0; i < count; ++i) {
    const ldm::shapes::ShapesSample sample = kind == "scene" ? dataset.Sample(i)
                                             : kind == "map" ? dataset.MapSample(i)
                                                             : dataset.HandDrawnMapSample(i);
    char name[32];
    std::snprintf(name, sizeof(name), "%06ld", i);
    std::vector<uint8_t> map_view(sample.label_map.size());
    for (size_t p = 0; p < map_view.size(); ++p) map_view[p] = sample.label_map[p] * 36;
    const std::filesystem::path base = std::filesystem::path(out) / name;
    if (!WritePng(base.string() + ".png", sample.rgb.data(), sample.width, sample.height, 3) ||
        !WritePng(base.string() + "_map.png", map_view.data(), sample.width, sample.height, 1) ||
        !WritePng(base.string() + "_labels.png", sample.label_map.data(), sample.width,
                  sample.height, 1)) {
      std::cerr << "cannot write " << base << "\n";
      return 1;
    }
    captions << name << "\t" << sample.caption << "\n";
  }
  std::cout << "wrote " << count << " samples to " << out << "\n";
  return 0;
}
