import type { ServiceLoadSpec } from '../load.protocol';
import { customersTraffic } from './customers.traffic';
import { ordersTraffic } from './orders.traffic';
import type { ServiceTraffic } from './traffic';

/** The traffic of every service the load generator can drive, by service name. */
const TRAFFIC: Record<string, (seeds: ServiceLoadSpec['seeds'], options: Record<string, unknown>) => ServiceTraffic> = {
  customers: (seeds) => customersTraffic(seeds),
  orders: (seeds, options) => ordersTraffic(seeds, options),
};

/** Starts the traffic of one service; an unknown service is an error that names the known ones. */
export function trafficOf(spec: ServiceLoadSpec): ServiceTraffic {
  const make = TRAFFIC[spec.service];
  if (!make) throw new Error(`no load traffic for service ${spec.service} (known: ${Object.keys(TRAFFIC).join(', ')})`);
  return make(spec.seeds, spec.options ?? {});
}
