#include "event/event_id.h"

namespace mtastream::event {

const std::array<uint8_t, 16> replay_event_namespace = {0x59, 0x6a, 0xcf, 0x6e, 0x0f, 0x10, 0x57, 0xa1,
                                                        0xa7, 0xb3, 0xfc, 0xa3, 0x6d, 0x72, 0x3d, 0x70};

void append_uuid5(const std::array<uint8_t, 16>& name_space, std::string_view name, std::string& out) {
  Sha1Digest digest = sha1({std::string_view(reinterpret_cast<const char*>(name_space.data()), name_space.size()), name});
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
}

}  // namespace mtastream::event
