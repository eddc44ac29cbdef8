/**
 * @file
 * How a port's frames reach their owner core (part of the installed surface: Stack reports it).
 */
#pragma once

#include <cstdint>

namespace tern {

/** How frames of a port reach their owner core. */
enum class SteerMode : uint8_t {
  single,    ///< one core: nothing to steer
  hardware,  ///< the port's RSS delivers each flow to its owner's queue; mis-steered frames are handed over
  software,  ///< the receiving core hashes every frame and hands it to its owner
};
/** "single", "hardware" or "software". */
const char* to_string(SteerMode m) noexcept;

}  // namespace tern
