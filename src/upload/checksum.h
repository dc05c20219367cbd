// Checksums that object stores speak: MD5, SHA-256, CRC32C, hex (base64 is in encoding.h).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mtastream::upload {

// One pass over a file: what the stores check (MD5, CRC32C) and what SigV4 signs (SHA-256).
struct FileDigest {
  std::uint64_t size = 0;
  std::array<unsigned char, 16> md5{};
  std::array<unsigned char, 32> sha256{};
  std::uint32_t crc32c = 0;

  std::string md5_hex() const;
  std::string md5_base64() const;
  std::string sha256_hex() const;
  std::string crc32c_base64() const;  // big-endian bytes, as GCS reports it
};

// Reads the whole file; throws Error naming the path when it cannot.
FileDigest digest_file(const std::string& path);

std::array<unsigned char, 16> md5_of(std::string_view data);
std::array<unsigned char, 32> sha256_of(std::string_view data);
std::string sha256_hex(std::string_view data);
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);
std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t size);  // start with 0

std::string hex_encode(const unsigned char* data, std::size_t size);
template <std::size_t N>
std::string hex_encode(const std::array<unsigned char, N>& bytes) { return hex_encode(bytes.data(), N); }

}  // namespace mtastream::upload
