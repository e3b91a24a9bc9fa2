#include "cli/args.h"

#include <charconv>

namespace inferd::cli {

void Args::flag(const std::string& name, const std::string& help, const std::string& fallback) {
  specs_[name] = {help, true};
  values_[name] = fallback;
  order_.push_back(name);
}

void Args::toggle(const std::string& name, const std::string& help) {
  specs_[name] = {help, false};
  values_[name] = "0";
  order_.push_back(name);
}

Status Args::parse(const std::vector<std::string>& argv) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(a.rfind('-', 1) + 1), value;
    const bool has_inline = name.find('=') != std::string::npos;
    if (has_inline) {
      value = name.substr(name.find('=') + 1);
      name = name.substr(0, name.find('='));
    }
    auto it = specs_.find(name);
    if (it == specs_.end()) return invalid_argument("unknown option '" + a + "'");
    if (!it->second.takes_value) {
      if (has_inline) return invalid_argument("option --" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= argv.size()) return invalid_argument("option --" + name + " needs a value");
      value = argv[++i];
    }
    values_[name] = value;
  }
  return Status::ok();
}

Result<int> Args::get_int(const std::string& name, int min, int max) const {
  const std::string& s = values_.at(name);
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max)
    return invalid_argument("--" + name + " must be an integer in " + std::to_string(min) + ".." +
                            std::to_string(max) + ", got '" + s + "'");
  return v;
}

std::string Args::help(const std::string& usage) const {
  std::string out = "usage: " + usage + "\n";
  for (const auto& name : order_) {
    const auto& spec = specs_.at(name);
    std::string left = "  --" + name + (spec.takes_value ? " <v>" : "");
    left.resize(std::max<size_t>(left.size() + 2, 24), ' ');
    out += left + spec.help;
    if (spec.takes_value && !values_.at(name).empty()) out += " (default: " + values_.at(name) + ")";
    out += "\n";
  }
  return out;
}

}  // namespace inferd::cli
