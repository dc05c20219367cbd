// std::unique_ptr for an object of a C library, freed by that library's function:
// CHandle<rd_kafka_conf_t, rd_kafka_conf_destroy> (one deleter for librdkafka, libpq and OpenSSL objects).
#pragma once

#include <memory>

namespace mtastream {

template <auto free_function>
struct FreeWith {
  template <class T>
  void operator()(T* object) const {
    free_function(object);
  }
};

template <class T, auto free_function>
using CHandle = std::unique_ptr<T, FreeWith<free_function>>;

}  // namespace mtastream
