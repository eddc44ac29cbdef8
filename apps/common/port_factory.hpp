/**
 * @file
 * The port factory the applications hand to tern::Stack: it opens a DPDK
 * ethdev for each configured port and wraps it in the fault-injecting and
 * capture decorators when the configuration asks for them. Apps pick the
 * drivers; lib/ never does.
 */
#pragma once

#include <memory>
#include <string>

#include "tern/stack/stack.hpp"

namespace tern::apps {

/** Open the port @p cfg describes (DpdkPort [+ FaultPort] [+ CapturePort]). Null + @p error on failure. */
std::unique_ptr<Port> open_port(const config::PortConfig& cfg, const PortSetup& setup, std::string& error);

}  // namespace tern::apps
