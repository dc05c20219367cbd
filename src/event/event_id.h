// Deterministic event IDs: name-based UUIDs (RFC 4122 version 5, SHA-1), stable across runs and machines.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/encoding.h"  // sha1(), by OpenSSL

namespace mtastream::event {

// The namespace of replayed turnstile events: uuid5(NAMESPACE_URL, "mtastream:replay:turnstile-event"),
// i.e. 596acf6e-0f10-57a1-a7b3-fca36d723d70.
extern const std::array<uint8_t, 16> replay_event_namespace;

// uuid5(namespace, name) as 36 lowercase characters (8-4-4-4-12), the shape of the original's UUID4 IDs.
// Python: str(uuid.uuid5(uuid.UUID("596acf6e-0f10-57a1-a7b3-fca36d723d70"), name)) gives the same text.
void append_uuid5(const std::array<uint8_t, 16>& name_space, std::string_view name, std::string& out);

}  // namespace mtastream::event
