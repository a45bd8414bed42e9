#include "ops/device_transfer.h"

namespace vt {

namespace {
DeviceTransfer g_transfer[2];
}

void set_device_transfer(DeviceType type, const DeviceTransfer& t) { g_transfer[int(type)] = t; }

const DeviceTransfer* device_transfer(DeviceType type) {
  const DeviceTransfer& t = g_transfer[int(type)];
  return t.copy ? &t : nullptr;
}

}  // namespace vt
