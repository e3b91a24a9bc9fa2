#include "support/model_env.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/test_util.h"

namespace inferd {

std::vector<std::string> bundled_photos() {
  std::vector<std::string> out;
  for (int i = 1; i <= 5; ++i) out.push_back(test::source_dir() + "/images/" + std::to_string(i) + ".jpg");
  // The shared assets may be absent (a bare clone): then only the repository's photos.
  for (const char* dir : {"seed_gre", "caffe", "winml", "opencv", "darknet", "misc"}) {
    const auto path = std::filesystem::path(test::assets_dir()) / "images" / dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

std::vector<OrtPrediction> read_ort_predictions() {
  std::ifstream in(test::asset_path(kOrtPredictionsFile));
  std::vector<OrtPrediction> out;
  if (!in) return out;  // the shared assets are absent: callers skip on empty
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    OrtPrediction p;
    std::string gt, top5;
    std::getline(fields, p.file, '\t');
    std::getline(fields, gt, '\t');
    std::getline(fields, top5, '\t');
    p.ground_truth = std::stoi(gt);
    p.ort_top1 = std::stoi(top5.substr(0, top5.find(',')));
    out.push_back(p);
  }
  return out;
}

}  // namespace inferd
