#pragma once
// The DLPack ABI (v0.8 unversioned structs), written from the public specification: DLTensor and
// its parts are the plugin ABI's (plugin/vt_plugin.h), DLManagedTensor is added here.
#include <cstdint>

#include "plugin/vt_plugin.h"

extern "C" {
typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;
}
