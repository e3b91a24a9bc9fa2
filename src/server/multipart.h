// The file field of a multipart/form-data body (RFC 7578), for `curl -F file=@x.jpg`.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd {

// Returns the content of the first part that has a filename (else the first part).
// `content_type` is the request's header, carrying the boundary parameter.
Result<std::string_view> multipart_file(std::string_view body, std::string_view content_type);

}  // namespace inferd
