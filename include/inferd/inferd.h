// inferd: the public C++ API, in one include. docs/api.md walks through it.
//
//   status.h   Status, Result<T>: errors are returned, never thrown
//   network.h  NetworkDefinition: a network defined layer by layer
//   parsers.h  parseOnnx, parseCaffe: a network from a model file
//   builder.h  Builder, BuilderConfig: a network optimized into an Engine
//   runtime.h  Engine, ExecutionContext, Runtime: running it, plans
//   image.h    loadImage, topK: the image side of a classifier
//
// Everything lives in inferd::v1; the version is part of the namespace so that a future,
// incompatible API can live beside this one. Classes hold their state behind a pointer
// (pimpl): the ABI survives changes inside the library.
#pragma once

#include "inferd/builder.h"
#include "inferd/image.h"
#include "inferd/network.h"
#include "inferd/parsers.h"
#include "inferd/runtime.h"
#include "inferd/status.h"
