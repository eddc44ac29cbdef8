#include "port_factory.hpp"

#include "tern/drivers/capture_port.hpp"
#include "tern/drivers/dpdk_port.hpp"
#include "tern/drivers/fault_port.hpp"

namespace tern::apps {

std::unique_ptr<Port> open_port(const config::PortConfig& cfg, const PortSetup& setup, std::string& error) {
  drivers::DpdkPortOptions o;
  o.name = cfg.name;
  o.devargs = cfg.devargs;
  o.rx_queues = setup.queues;
  o.tx_queues = setup.queues;
  o.rx_desc = cfg.rx_desc;
  o.tx_desc = cfg.tx_desc;
  o.mtu = cfg.mtu;
  o.lro = setup.lro;
  if (cfg.mac) o.mac = cfg.mac->b;
  o.rx_pools = setup.pools;
  std::unique_ptr<Port> port = drivers::DpdkPort::open(o, error);
  if (!port) return nullptr;
  if (cfg.fault.enabled()) {
    drivers::FaultOptions f;
    f.seed = cfg.fault.seed;
    f.loss = cfg.fault.loss;
    f.duplicate = cfg.fault.duplicate;
    f.reorder = cfg.fault.reorder;
    f.corrupt = cfg.fault.corrupt;
    f.delay_ns = uint64_t{cfg.fault.delay_us} * 1000;
    f.on_rx = true;  // documented in docs/config.md: both directions
    f.on_tx = true;
    port = std::make_unique<drivers::FaultPort>(std::move(port), f, setup.pools.front());
  }
  if (!cfg.capture.empty()) {
    port = drivers::CapturePort::open(std::move(port), cfg.capture, error);
    if (!port) return nullptr;
  }
  return port;
}

}  // namespace tern::apps
