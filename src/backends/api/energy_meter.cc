#include "backends/api/energy_meter.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>

namespace inferd {
namespace {

namespace fs = std::filesystem;

Result<uint64_t> read_counter(const fs::path& file) {
  std::ifstream in(file);
  uint64_t value = 0;
  if (!(in >> value)) {
    return failed_precondition("cannot read " + file.string() +
                               (fs::exists(file) ? " (RAPL counters are root-only on recent kernels)" : ""));
  }
  return value;
}

// One zone's counter in microjoules, wrapping at max_energy_range_uj.
struct Zone {
  std::string name;
  fs::path energy_file;
  uint64_t range_uj = 0, last_uj = 0, total_uj = 0;
};

class RaplMeter final : public EnergyMeter {
 public:
  explicit RaplMeter(std::vector<Zone> zones) : zones_(std::move(zones)) {}

  std::string name() const override {
    std::string n = "RAPL ";
    for (size_t i = 0; i < zones_.size(); ++i) n += (i ? "+" : "") + zones_[i].name;
    return n;
  }

  Result<double> joules() override {
    double total = 0;
    for (Zone& z : zones_) {
      ASSIGN_OR_RETURN(uint64_t now, read_counter(z.energy_file));
      // A smaller reading means the counter wrapped (once: see the header).
      z.total_uj += now >= z.last_uj ? now - z.last_uj : z.range_uj - z.last_uj + now;
      z.last_uj = now;
      total += static_cast<double>(z.total_uj) * 1e-6;
    }
    return total;
  }

 private:
  std::vector<Zone> zones_;
};

}  // namespace

Result<std::unique_ptr<EnergyMeter>> open_rapl_meter(const std::string& powercap_root) {
  std::error_code ec;
  if (!fs::is_directory(powercap_root, ec)) {
    return not_found("no RAPL energy counters: " + powercap_root + " does not exist (no powercap driver, or a VM)");
  }
  static const std::regex kPackageZone("intel-rapl:[0-9]+");
  std::vector<Zone> zones;
  for (const auto& entry : fs::directory_iterator(powercap_root, ec)) {
    const std::string dir = entry.path().filename().string();
    if (!std::regex_match(dir, kPackageZone)) continue;
    Zone z;
    z.energy_file = entry.path() / "energy_uj";
    std::ifstream name_file(entry.path() / "name");
    if (!std::getline(name_file, z.name)) z.name = dir;
    ASSIGN_OR_RETURN(z.range_uj, read_counter(entry.path() / "max_energy_range_uj"));
    ASSIGN_OR_RETURN(z.last_uj, read_counter(z.energy_file));
    zones.push_back(std::move(z));
  }
  if (zones.empty()) return not_found("no RAPL energy counters: no intel-rapl:N zone in " + powercap_root);
  std::sort(zones.begin(), zones.end(), [](const Zone& a, const Zone& b) { return a.energy_file < b.energy_file; });
  return std::unique_ptr<EnergyMeter>(new RaplMeter(std::move(zones)));
}

}  // namespace inferd
