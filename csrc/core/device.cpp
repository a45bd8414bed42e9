#include "core/device.h"

#include "core/error.h"

namespace vt {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return {DeviceType::CPU, 0};
  if (s == "cuda") return {DeviceType::CUDA, 0};
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.find_first_not_of("0123456789", 5) == std::string::npos)
    return {DeviceType::CUDA, int8_t(std::stoi(s.substr(5)))};
  detail::throw_error(ErrorKind::Value, "unknown device '", s, "': expected 'cpu', 'cuda' or 'cuda:N'");
}

}  // namespace vt
