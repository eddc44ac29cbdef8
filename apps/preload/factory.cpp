/**
 * @file
 * The port driver behind libtern-posix and libtern-preload.so: DPDK's ethdev (any vdev or NIC the
 * TERN_CONFIG file names, with the config's fault and capture decorators), registered when the
 * library loads. lib/posix never names a driver.
 */
#include "port_factory.hpp"
#include "tern/posix/runtime.hpp"

namespace {

__attribute__((constructor)) void register_port_factory() {
  tern::posix::set_port_factory(&tern::apps::open_port);
}

}  // namespace
