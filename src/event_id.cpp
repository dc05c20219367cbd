#include "event_id.h"

#include <cstring>

namespace mtastream {

const std::array<uint8_t, 16> replay_event_namespace = {0x59, 0x6a, 0xcf, 0x6e, 0x0f, 0x10, 0x57, 0xa1,
                                                        0xa7, 0xb3, 0xfc, 0xa3, 0x6d, 0x72, 0x3d, 0x70};

namespace {

uint32_t rotl(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

// SHA-1 as specified in FIPS 180-4, section 6.1: 512-bit blocks, 80 rounds.
class Sha1 {
 public:
  void update(const uint8_t* data, size_t size) {
    length_ += size;
    while (size > 0) {
      size_t take = std::min(size, sizeof block_ - used_);
      std::memcpy(block_ + used_, data, take);
      used_ += take;
      data += take;
      size -= take;
      if (used_ == sizeof block_) {
        compress();
        used_ = 0;
      }
    }
  }
  Sha1Digest finish() {
    uint64_t bits = length_ * 8;
    uint8_t pad = 0x80;
    update(&pad, 1);
    uint8_t zero = 0;
    while (used_ != 56) update(&zero, 1);
    uint8_t length_bytes[8];
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    update(length_bytes, 8);
    Sha1Digest digest;
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 4; ++j) digest[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
    return digest;
  }

 private:
  void compress() {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t{block_[4 * i]} << 24 | uint32_t{block_[4 * i + 1]} << 16 | uint32_t{block_[4 * i + 2]} << 8 |
             uint32_t{block_[4 * i + 3]};
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = t;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
  }

  uint32_t h_[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  uint8_t block_[64] = {};
  size_t used_ = 0;
  uint64_t length_ = 0;
};

}  // namespace

Sha1Digest sha1(std::string_view data) {
  Sha1 hash;
  hash.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  return hash.finish();
}

void append_uuid5(const std::array<uint8_t, 16>& name_space, std::string_view name, std::string& out) {
  Sha1 hash;
  hash.update(name_space.data(), name_space.size());
  hash.update(reinterpret_cast<const uint8_t*>(name.data()), name.size());
  Sha1Digest digest = hash.finish();
  digest[6] = static_cast<uint8_t>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<uint8_t>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
}

}  // namespace mtastream
