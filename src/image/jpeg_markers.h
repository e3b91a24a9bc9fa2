// The JPEG marker segments that matter after decoding: EXIF orientation (APP1) and the
// Adobe segment (APP14) that says how CMYK samples are stored.
#pragma once

#include <cstdint>
#include <span>

namespace inferd::image {

struct JpegMarkers {
  int exif_orientation = 1;  // from the first APP1 "Exif" segment; 1 when there is none
  bool has_adobe = false;    // an APP14 "Adobe" segment is present
};

// Walks the marker segments from SOI up to the first SOS (ITU-T T.81 annex B). Tolerant:
// stops at the first malformed segment and reports what it found so far, because the
// decoder, not this scan, decides whether the file is corrupt.
JpegMarkers scan_jpeg_markers(std::span<const uint8_t> jpeg);

// The number of scans (SOS segments) in the whole file, walking the entropy-coded data
// between them (ITU-T T.81 B.1.1.5: inside it 0xFF is followed by 0x00 or RSTn only). A
// baseline JPEG has one scan per component group, a progressive one about 10 from common
// encoders; each scan makes the decoder walk every coefficient again, so the count bounds
// what a decode costs before it starts. Linear in the file size.
int count_jpeg_scans(std::span<const uint8_t> jpeg);

}  // namespace inferd::image
