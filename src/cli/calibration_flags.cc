#include "cli/calibration_flags.h"

#include <filesystem>
#include <iostream>
#include <vector>

#include "core/file.h"
#include "server/calibrator.h"

namespace inferd::cli {

void add_calibration_flags(Args& args, const std::string& cache_default) {
  args.flag("calibration", "INT8: calibrate on the images of this folder (see docs/quantization.md)", "");
  args.flag("calibrator", "entropy | percentile | max (default: entropy for INT8, max for FP8)", "");
  args.flag("percentile", "for --calibrator percentile: the % of |x| kept unclipped", "99.99");
  args.flag("calibration-images", "use at most this many images of --calibration (0 = all)", "0");
  args.flag("int8-agreement",
            "mixed precision: fall layers back to float until INT8 keeps this % of FP32's top-1 on "
            "the calibration images (0 = all INT8)",
            "97");
  args.flag("calibration-cache", "calibration table: reused when it exists, else written (default: " + cache_default + ")",
            "");
}

namespace {

Result<CalibrationTable> read_table(const std::string& cache) {
  ASSIGN_OR_RETURN(auto text, read_file(cache));
  return CalibrationTable::parse(std::string(text.begin(), text.end()), cache);
}

Result<CalibrationOptions> calibration_options(const Args& args, bool e4m3) {
  CalibrationOptions c;
  c.images_dir = args.get("calibration");
  c.e4m3 = e4m3;
  // FP8's exponent covers outliers without costing the small values resolution, so its
  // default keeps the whole range (max), as FP8 recipes do; INT8's trades them (entropy).
  c.method = !args.get("calibrator").empty() ? args.get("calibrator") : e4m3 ? "max" : "entropy";
  ASSIGN_OR_RETURN(c.max_images, args.get_int("calibration-images", 0, 1 << 20));
  try {
    c.percentile = std::stod(args.get("percentile"));
    c.min_agreement = std::stod(args.get("int8-agreement")) / 100.0;
  } catch (const std::exception&) {
    return invalid_argument("--percentile and --int8-agreement take numbers");
  }
  return c;
}

}  // namespace

Result<std::shared_ptr<const CalibrationTable>> calibration_from_flags(const Args& args, const ModelFolder& folder,
                                                                       const std::string& default_cache, bool e4m3) {
  // An explicit --calibration-cache, else the table the model folder's config.toml names
  // (written there by the first --calibration, as the folder's server reads it from there),
  // else `default_cache`. An existing table is reused either way (said on stdout).
  std::string cache = args.get("calibration-cache");
  if (cache.empty()) cache = !folder.calibration_path.empty() ? folder.calibration_path : default_cache;
  std::error_code ec;
  if (std::filesystem::exists(cache, ec)) {
    ASSIGN_OR_RETURN(auto table, read_table(cache));
    RETURN_IF_ERROR(table.check_kind(e4m3, cache));
    std::cout << "calibration: reused " << cache << " (" << table.entries.size() << " activations)\n";
    return std::make_shared<const CalibrationTable>(std::move(table));
  }
  if (args.get("calibration").empty())
    return invalid_argument(std::string(e4m3 ? "FP8" : "INT8") +
                            " needs a calibration: --calibration DIR (images), or an existing --calibration-cache");
  ASSIGN_OR_RETURN(const CalibrationOptions c, calibration_options(args, e4m3));
  std::vector<std::string> decisions;
  ASSIGN_OR_RETURN(auto table, calibrate_model(folder, c, &decisions));
  for (const std::string& line : decisions) std::cout << "calibration: " << line << "\n";
  const std::string text = table.to_text();
  RETURN_IF_ERROR(write_file(cache, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  std::cout << "calibration: " << table.entries.size() << " activations (" << c.method << ") written to " << cache
            << "\n";
  return std::make_shared<const CalibrationTable>(std::move(table));
}

}  // namespace inferd::cli
