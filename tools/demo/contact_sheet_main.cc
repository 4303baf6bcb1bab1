// ldm-contact-sheet: tiles PNG files into one sheet, one --row per line of cells, every cell
// resized (nearest neighbour) to --cell pixels so latent-resolution previews sit beside images.
//
//   ldm-contact-sheet --out out/contact-sheet.png --cell 64
//       --row out/a/step5-0.png,out/a/step10-0.png,out/a/image.png --row ...
//
// Label maps (1-channel PNGs whose gray values are label indices, as `ldm-client --semantic-map`
// takes) are drawn in the shapes palette when --maps-as-labels is given. Exit status: 0 written,
// 1 an input or the output failed (the message names the file), 2 bad usage.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "core/io/png_codec.h"
#include "tools/eval/image_grid.h"

namespace {

absl::StatusOr<ldm::Image8> LoadCell(const std::string& path, int cell, bool maps_as_labels) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<ldm::Image8> image = ldm::DecodePng(bytes.str(), ldm::PngLayout::kAsStored);
  if (!image.ok()) return absl::InvalidArgumentError(path + ": " + image.status().ToString());
  if (image->channels == 1 && maps_as_labels) {
    *image = ldm::eval::ImageGrid::MapToImage(image->pixels, image->width, image->height);
  } else if (image->channels != 3) {
    // Gray or RGBA: decode again as RGB so every cell has one layout.
    image = ldm::DecodePng(bytes.str(), ldm::PngLayout::kRgb);
    if (!image.ok()) return absl::InvalidArgumentError(path + ": " + image.status().ToString());
  }
  return ldm::eval::ImageGrid::ResizeNearest(*image, cell, cell);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ldm-contact-sheet: tiles PNG files into one sheet"};
  std::string out;
  std::vector<std::string> rows;
  int cell = 64, gap = 2;
  bool maps_as_labels = false;
  app.add_option("--out", out, "PNG file to write")->required();
  app.add_option("--row", rows, "comma-separated PNG files of one row (repeat per row)")
      ->required();
  app.add_option("--cell", cell, "cell size in pixels")->check(CLI::Range(1, 4096));
  app.add_option("--gap", gap, "gap between cells in pixels")->check(CLI::Range(0, 64));
  app.add_flag("--maps-as-labels", maps_as_labels,
               "draw 1-channel PNGs as label maps in the shapes palette");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::vector<ldm::Image8>> grid;
  for (const std::string& row : rows) {
    std::vector<ldm::Image8>& cells = grid.emplace_back();
    for (absl::string_view path : absl::StrSplit(row, ',', absl::SkipEmpty())) {
      absl::StatusOr<ldm::Image8> image = LoadCell(std::string(path), cell, maps_as_labels);
      if (!image.ok()) {
        std::cerr << "ldm-contact-sheet: " << image.status().message() << "\n";
        return 1;
      }
      cells.push_back(*std::move(image));
    }
  }
  absl::StatusOr<ldm::Image8> sheet = ldm::eval::ImageGrid::Tile(grid, gap, 255);
  if (!sheet.ok()) {
    std::cerr << "ldm-contact-sheet: " << sheet.status().message() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> png = ldm::EncodePng(*sheet);
  if (!png.ok()) {
    std::cerr << "ldm-contact-sheet: " << png.status().message() << "\n";
    return 1;
  }
  if (std::filesystem::path parent = std::filesystem::path(out).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  std::ofstream(out, std::ios::binary) << *png;
  if (!std::ifstream(out)) {
    std::cerr << "ldm-contact-sheet: cannot write " << out << "\n";
    return 1;
  }
  std::cout << "wrote " << out << " (" << sheet->width << "x" << sheet->height << ")\n";
  return 0;
}
