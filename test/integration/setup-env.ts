import { resolveLocalhostSubdomains } from '../../lambdas/local/localhost-dns';

// Each worker resolves fauxqs' `sqs.<region>.localhost` queue hosts to loopback.
resolveLocalhostSubdomains();
