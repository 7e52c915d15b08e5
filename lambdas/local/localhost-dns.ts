import dns from 'node:dns';

let installed = false;

/**
 * fauxqs names queues `http://sqs.<region>.localhost:<port>/…` and the SQS client sends to the queue
 * URL's host. RFC 6761 reserves `*.localhost` for loopback, but glibc does not resolve it, so this
 * process resolves such names to 127.0.0.1 itself (what fauxqs' own `interceptLocalhostDns` does).
 */
export function resolveLocalhostSubdomains(): void {
  if (installed) return;
  installed = true;
  const original = dns.lookup;
  const patched = function lookup(hostname: string, options: unknown, callback?: unknown) {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options ?? {}) as dns.LookupOptions;
    if (typeof hostname === 'string' && hostname.endsWith('.localhost')) {
      if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
      else process.nextTick(cb, null, '127.0.0.1', 4);
      return {};
    }
    return (original as (...args: unknown[]) => unknown).call(dns, hostname, options, callback);
  };
  dns.lookup = patched as unknown as typeof dns.lookup;
}
