import { BlockList, isIP } from "node:net";

/*
 * Addresses a fetch must never reach: loopback, private, link-local (cloud metadata lives at
 * 169.254.169.254), carrier-grade NAT, multicast, reserved and documentation ranges, and IPv6 forms
 * that embed an IPv4 address (compatible, mapped, translated, NAT64, Teredo, 6to4), which could smuggle
 * any of the above.
 */
// Two lists: one BlockList holding both families checks IPv4 addresses against IPv6 rules as mapped
// addresses, so the ::ffff:0:0/96 rule would block every IPv4 address.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blockedV4.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  // Unspecified, loopback and the deprecated IPv4-compatible form (::127.0.0.1) in one range.
  ["::", 96],
  // IPv4-mapped (::ffff:127.0.0.1, ::ffff:7f00:1) and IPv4-translated (::ffff:0:7f00:1).
  ["::ffff:0:0", 96],
  ["::ffff:0:0:0", 96],
  // NAT64, well-known and local-use prefixes.
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  // Teredo tunnels carry an IPv4 server and client address.
  ["2001::", 32],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  blockedV6.addSubnet(network, prefix, "ipv6");
}

/** Whether an IP address is one no fetch may connect to. Anything that is not an IP address counts as blocked. */
export function isBlockedAddress(address: string): boolean {
  const unbracketed = address.replace(/^\[|\]$/g, "");
  const version = isIP(unbracketed);
  if (version === 4) return blockedV4.check(unbracketed, "ipv4");
  if (version === 6) return blockedV6.check(unbracketed, "ipv6");
  return true;
}
