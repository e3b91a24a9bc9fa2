// `inferd quantize MODEL -o OUT.onnx --calibration DIR [--precision int8|fp8]`: the model's
// INT8 (or FP8 E4M3) calibration written out as an ONNX model with QuantizeLinear/
// DequantizeLinear pairs (builder/qdq_export.h), which ONNX Runtime, TensorRT or inferd itself
// run as explicit quantization.
#include <iostream>
#include <set>

#include "builder/qdq_export.h"
#include "cli/calibration_flags.h"
#include "cli/commands.h"
#include "core/file.h"

namespace inferd::cli {

int quantize_command(const Argv& argv) {
  Args args;
  args.flag("o", "the quantized ONNX model to write (required)", "");
  args.flag("precision", "int8 | fp8 (FLOAT8E4M3FN Q/DQ, opset 19)", "int8");
  add_calibration_flags(args, "OUT + .calib");
  args.toggle("report", "print each quantized activation and layer");
  args.toggle("help", "show this help");
  const char* usage = "inferd quantize MODEL -o OUT.onnx --calibration DIR [options]";
  if (Status s = args.parse(argv); !s.is_ok()) return fail(s.message() + "\n" + args.help(usage), 2);
  if (args.on("help")) return std::cout << args.help(usage), 0;
  if (args.positional().size() != 1 || args.get("o").empty())
    return fail("quantize needs one MODEL and -o OUT.onnx\n" + args.help(usage), 2);
  auto folder = load_model(args.positional()[0], "");
  if (!folder.is_ok()) return fail(folder.status().message());
  if (!folder->weights_path.empty()) return fail(folder->model_path + ": quantize writes ONNX; this is a Caffe model");
  const std::string out = args.get("o"), precision = args.get("precision");
  if (precision != "int8" && precision != "fp8") return fail("--precision is int8 or fp8, not '" + precision + "'", 2);
  auto table = calibration_from_flags(args, *folder, out + ".calib", precision == "fp8");
  if (!table.is_ok()) return fail(table.status().message());
  auto bytes = read_file(folder->model_path);
  if (!bytes.is_ok()) return fail(bytes.status().message());
  const auto& pinned = folder->config.quantization.float_layers;
  auto exported =
      export_qdq_onnx(*bytes, **table, folder->model_path, std::set<std::string>(pinned.begin(), pinned.end()));
  if (!exported.is_ok()) return fail(exported.status().message());
  if (Status s = write_file(out, exported->model); !s.is_ok()) return fail(s.message());
  if (args.on("report"))
    for (const std::string& line : exported->lines) std::cout << "  " << line << "\n";
  std::cout << "wrote " << out << " (" << exported->model.size() << " bytes, " << (precision == "fp8" ? "FP8" : "INT8")
            << " Q/DQ, " << (*table)->method << " calibration of " << (*table)->entries.size() << " activations)\n";
  return 0;
}

}  // namespace inferd::cli
