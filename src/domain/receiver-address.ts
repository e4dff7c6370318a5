/**
 * The one rule for where tenure may send an outbound request on an Administrator's say-so (webhook
 * receivers): a public unicast address only. Private (RFC 1918), loopback, link-local (and so the
 * cloud metadata address 169.254.169.254), unique-local, carrier-grade NAT, multicast, reserved
 * and the other special ranges, and IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4,
 * Teredo) are refused, unless the allow-list names the address's network or the receiver's host
 * name (on-premises receivers). The ranges are ipaddr.js's; an address is public when it is in
 * none of them. Pure: resolving names is the caller's (at delivery, on the connection itself).
 */
import ipaddr from 'ipaddr.js';

export interface ReceiverAllowList {
  /** Networks receivers may be on although private: [address, prefix length]. */
  networks: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  /** Host names (lowercase) whose receivers may resolve to private addresses. */
  hosts: ReadonlySet<string>;
}

/** The networks allowed when the setting is not given outside production: loopback, so local receivers work as before. */
export const LOCAL_DEVELOPMENT_NETWORKS = ['127.0.0.0/8', '::1/128'] as const;

/** The literal address of a URL host (`[::1]` → `::1`), or undefined when the host is a name. */
export function literalAddress(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.IPv4.isValidFourPartDecimal(host) || ipaddr.IPv6.isValid(host)) return host;
  return undefined;
}

/** Names that are loopback by definition (RFC 6761), whatever a resolver says. */
export function isLoopbackName(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost');
}

/** One entry of the allow-list setting: a CIDR, an address or a host name; undefined when it is none. */
function parseEntry(entry: string): { network: [ipaddr.IPv4 | ipaddr.IPv6, number] } | { host: string } | undefined {
  if (entry.includes('/')) {
    if (!ipaddr.isValidCIDR(entry)) return undefined;
    const [address, bits] = ipaddr.parseCIDR(entry);
    return { network: [address, bits] };
  }
  const literal = literalAddress(entry);
  if (literal) {
    const address = ipaddr.parse(literal);
    return { network: [address, address.kind() === 'ipv4' ? 32 : 128] };
  }
  const host = entry.toLowerCase().replace(/\.$/, '');
  return /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(host) ? { host } : undefined;
}

/** The allow-list from the setting's entries; throws naming the entries that are neither a CIDR, an address nor a host name. */
export function parseReceiverAllowList(entries: readonly string[]): ReceiverAllowList {
  const networks: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]> = [];
  const hosts = new Set<string>();
  const bad: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const parsed = parseEntry(entry);
    if (!parsed) bad.push(entry);
    else if ('network' in parsed) networks.push(parsed.network);
    else hosts.add(parsed.host);
  }
  if (bad.length) throw new Error(`${bad.map((e) => `"${e}"`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} neither a network (10.1.0.0/16, fd00::/8), an address nor a host name`);
  return { networks, hosts };
}

/**
 * Why a receiver at `address` (reached through `hostname`) is refused, or undefined when it is
 * acceptable: the address is public, or the allow-list names its network or the host.
 */
export function receiverAddressRefusal(address: string, hostname: string, allow: ReceiverAllowList): string | undefined {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it stands for.
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'unicast') return undefined;
  if (allow.hosts.has(hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, ''))) return undefined;
  if (allow.networks.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits))) return undefined;
  return `${ip.toString()} is not a public address (${range}) and WEBHOOK_ALLOWED_PRIVATE_NETWORKS does not list it`;
}
