// `inferd classify MODEL IMAGE... [--top k] [--json]` (its output is a contract: the README's Commands section).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "server/classifier.h"

namespace inferd::cli {
namespace {

void print_result(const std::string& path, const std::vector<Prediction>& top, bool json) {
  if (json) {
    std::cout << "{\"image\":" << json_quote(path) << ",\"top\":" << predictions_json(top) << "}\n";
    return;
  }
  std::cout << path << "\n";
  for (const auto& p : top) {
    char conf[32];
    std::snprintf(conf, sizeof conf, "%.4f", p.confidence);
    std::cout << conf << " " << p.label << "\n";
  }
}

}  // namespace

int classify_command(const Argv& argv) {
  Args args;
  args.flag("top", "number of classes per image", "");
  args.toggle("json", "one JSON object per image per line");
  args.flag("labels", "labels file when MODEL is a model file", "");
  args.flag("threads", "CPU threads (0 = all cores)", "0");
  args.flag("backend", "cpu | cuda | auto (default: the model's config.toml)", "");
  args.flag("precision", "fp32 | tf32 | fp16 | bf16 (default: the model's config.toml)", "");
  args.flag("gpu", "the GPU to run on with the cuda backend", "0");
  args.flag("max-batch", "images per engine run (0 = the model's max_batch)", "0");
  args.toggle("verbose", "log engine events to stderr");
  args.toggle("help", "show this help");
  const char* usage = "inferd classify MODEL IMAGE... [options]";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  if (args.positional().size() < 2)
    return fail("classify needs a MODEL and at least one IMAGE\n" + args.help(usage), 2);
  if (args.on("verbose")) set_log_level(LogLevel::kInfo);
  auto threads = args.get_int("threads", 0, 1024);
  auto max_batch = args.get_int("max-batch", 0, 4096);
  auto gpu = args.get_int("gpu", 0, 1024);
  if (!threads.is_ok()) return fail(threads.status().message(), 2);
  if (!max_batch.is_ok()) return fail(max_batch.status().message(), 2);
  if (!gpu.is_ok()) return fail(gpu.status().message(), 2);

  auto model = load_classifier(args.positional()[0], args.get("labels"),
                               {*threads, *max_batch, args.get("backend"), args.get("precision"), *gpu});
  if (!model.is_ok()) return fail(model.status().message());
  int top = model->folder.config.output.top_k;
  if (!args.get("top").empty()) {
    auto t = args.get_int("top", 1, 100000);
    if (!t.is_ok()) return fail(t.status().message(), 2);
    top = *t;
  }
  auto ctx = model->engine->create_context();
  if (!ctx.is_ok()) return fail(ctx.status().message());

  const std::vector<std::string> images(args.positional().begin() + 1, args.positional().end());
  const auto sample = static_cast<size_t>(element_count((*ctx)->input_shape(0, 1)));
  int failures = 0;
  for (size_t first = 0; first < images.size();) {
    // Fill a batch with the images that decode; report the ones that do not.
    std::vector<std::string> batch;
    for (; first < images.size() && static_cast<int>(batch.size()) < model->engine->max_batch(); ++first) {
      auto bytes = read_file(images[first]);
      Status s = bytes.is_ok() ? image_to_tensor(*model, *bytes, (*ctx)->input_data(0) + batch.size() * sample)
                               : bytes.status();
      if (!s.is_ok()) {
        std::cerr << "inferd: " << images[first] << ": " << s.message() << "\n";
        ++failures;
        continue;
      }
      batch.push_back(images[first]);
    }
    if (batch.empty()) continue;
    auto results = classify_batch(*model, **ctx, static_cast<int>(batch.size()), top);
    if (!results.is_ok()) return fail(results.status().message());
    for (size_t i = 0; i < batch.size(); ++i) print_result(batch[i], (*results)[i], args.on("json"));
  }
  return failures ? 1 : 0;
}

}  // namespace inferd::cli
