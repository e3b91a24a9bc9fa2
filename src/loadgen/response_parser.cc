#include "loadgen/response_parser.h"

namespace inferd::loadgen {

// Headers up to 32 KiB (the connection's read buffer is twice that, so a header always
// fits after compaction); bodies of any size, since they are never stored.
ResponseParser::ResponseParser() {
  header_limit(32 << 10);
  body_limit(boost::none);
  eager(true);
}

}  // namespace inferd::loadgen
